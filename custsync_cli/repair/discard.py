"""Give up on operations, audited with a reason; what waited on a discarded create fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from custsync_cli.context import JobContext
from custsync_cli.domain.decision import discarded_dependency_error
from custsync_cli.domain.models import Status
from custsync_cli.errors import UsageError
from custsync_cli.repair import load_editable
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.operations import blocked_dependants, fail_blocked, mark_discarded
from custsync_cli.timeutil import utc_now


@dataclass
class DiscardResult:
    """One discarded operation and the blocked dependants that failed because of it."""

    id: int
    operation: str
    previous_status: str
    failed_dependants: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "previous_status": self.previous_status,
            "status": Status.DISCARDED.value,
            "failed_dependants": self.failed_dependants,
        }


def discard(ctx: JobContext, ids: list[int], reason: str | None) -> list[DiscardResult]:
    """Discard ``ids`` in one transaction and fail the operations blocked behind them."""
    if reason is None or not reason.strip():
        raise UsageError("discard needs --reason TEXT saying why (it goes into the audit log)")
    why = reason.strip()
    now = utc_now()
    results: list[DiscardResult] = []
    events: list[AuditEvent] = []
    with ctx.store.transaction() as conn:
        operations = load_editable(conn, ids, "discarded")
        for op in operations:
            mark_discarded(conn, op.id, why, now)
            events.append(
                AuditEvent(
                    action="discarded",
                    actor=ctx.actor,
                    at=now,
                    operation_id=op.id,
                    customer_account=op.customer_account,
                    channel=op.channel,
                    details={"reason": why, "from_status": op.status},
                )
            )
            results.append(DiscardResult(op.id, op.operation, op.status))
        by_id = {result.id: result for result in results}
        dependants = blocked_dependants(conn, list(by_id))
        for op_id, blocked_by, channel, account in sorted(dependants, key=lambda r: r[1]):
            result = by_id[blocked_by]
            error = discarded_dependency_error(result.id, result.operation)
            fail_blocked(conn, op_id, [error], now)
            events.append(
                AuditEvent(
                    action="sync_failed",
                    actor=ctx.actor,
                    at=now,
                    operation_id=op_id,
                    customer_account=account,
                    channel=channel,
                    details={"errors": [error.as_dict()], "discarded": result.id},
                )
            )
            result.failed_dependants.append(int(op_id))
        append_events(conn, events)
    return results
