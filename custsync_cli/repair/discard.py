"""Give up on operations, audited with a reason; what waited on a discarded create fails."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.context import JobContext
from custsync_cli.domain.decision import discarded_dependency_error
from custsync_cli.domain.models import Operation, Status
from custsync_cli.errors import ConflictError, UsageError
from custsync_cli.repair import load_editable
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.operations import blocked_dependants, fail_blocked, mark_discarded
from custsync_cli.timeutil import utc_now


@dataclass
class DiscardResult:
    """One operation to discard and the blocked dependants that fail because of it."""

    id: int
    operation: str
    previous_status: str
    channel: str = ""
    last_error: str | None = None
    failed_dependants: list[int] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "previous_status": self.previous_status,
            "status": Status.DISCARDED.value,
            "failed_dependants": self.failed_dependants,
            "dry_run": self.dry_run,
        }


@dataclass
class _Plan:
    operations: list[Operation]
    results: dict[int, DiscardResult]
    dependants: list[sqlite3.Row]


def require_discard_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise UsageError("discard needs --reason TEXT saying why (it goes into the audit log)")
    return reason.strip()


def _plan(conn: sqlite3.Connection, ids: list[int], *, dry_run: bool) -> _Plan:
    operations = load_editable(conn, ids, "discarded")
    results = {
        op.id: DiscardResult(
            op.id, op.operation, op.status, op.channel, op.last_error, dry_run=dry_run
        )
        for op in operations
    }
    # A dependant discarded in the same call is not blocked any more once its create is gone.
    dependants = [
        row for row in blocked_dependants(conn, list(results)) if row["id"] not in results
    ]
    for row in dependants:
        results[row["blocked_by"]].failed_dependants.append(int(row["id"]))
    return _Plan(operations, results, dependants)


def _shown(result: DiscardResult) -> tuple[int, str, list[int]]:
    return result.id, result.previous_status, result.failed_dependants


def preview_discard(ctx: JobContext, ids: list[int]) -> list[DiscardResult]:
    """What ``discard`` would do to ``ids`` now, changing nothing."""
    return list(_plan(ctx.store.conn, ids, dry_run=True).results.values())


def discard(
    ctx: JobContext,
    ids: list[int],
    reason: str | None,
    *,
    previewed: list[DiscardResult] | None = None,
) -> list[DiscardResult]:
    """Discard ``ids`` in one transaction and fail the operations blocked behind them.

    With ``previewed`` (from ``preview_discard``), refuse if the store no longer matches what
    the operator was shown.
    """
    why = require_discard_reason(reason)
    now = utc_now()
    events: list[AuditEvent] = []
    with ctx.store.transaction() as conn:
        plan = _plan(conn, ids, dry_run=False)
        if previewed is not None and [_shown(r) for r in previewed] != [
            _shown(r) for r in plan.results.values()
        ]:
            raise ConflictError(
                "the operations changed since they were shown; nothing was discarded"
            )
        for op in plan.operations:
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
        for row in sorted(plan.dependants, key=lambda r: int(r["blocked_by"])):
            result = plan.results[row["blocked_by"]]
            error = discarded_dependency_error(result.id, result.operation)
            fail_blocked(conn, row["id"], [error], now)
            events.append(
                AuditEvent(
                    action="sync_failed",
                    actor=ctx.actor,
                    at=now,
                    operation_id=row["id"],
                    customer_account=row["customer_account"],
                    channel=row["channel"],
                    details={"errors": [error.as_dict()], "discarded": result.id},
                )
            )
        append_events(conn, events)
    return list(plan.results.values())
