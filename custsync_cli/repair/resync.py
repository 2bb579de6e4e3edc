"""Send operations back to pending and sync and distribute just those now, or preview it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.domain.models import Status
from custsync_cli.repair import load_editable, rehearsing
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.operations import (
    blocked_dependants,
    kept_conflicts,
    mark_for_resync,
    operation_errors,
    resync_outcome_row,
)
from custsync_cli.timeutil import utc_now


@dataclass(frozen=True)
class Conflict:
    """A field left alone because a later synced operation already changed it."""

    field: str
    wanted: str | None
    kept: str | None
    kept_from_operation: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "wanted": self.wanted,
            "kept": self.kept,
            "kept_from_operation": self.kept_from_operation,
        }


@dataclass
class Outcome:
    """Where one operation ended (or, for a dry run, would end)."""

    id: int
    operation: str
    channel: str
    async_account: str
    customer_account: str | None
    status: str
    errors: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    waits_for: int | None = None
    released_by: int | None = None
    distributed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "channel": self.channel,
            "async_account": self.async_account,
            "customer_account": self.customer_account,
            "status": self.status,
            "errors": self.errors,
            "conflicts": [c.as_dict() for c in self.conflicts],
            "waits_for": self.waits_for,
            "released_by": self.released_by,
            "distributed": self.distributed,
        }


@dataclass
class ResyncReport:
    dry_run: bool
    forced: bool
    operations: list[Outcome] = field(default_factory=list)
    skipped_channels: dict[str, str] = field(default_factory=dict)

    @property
    def all_synced(self) -> bool:
        return all(o.status == Status.SYNCED for o in self.operations)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.operations:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "forced": self.forced,
            "all_synced": self.all_synced,
            "counts": self.counts(),
            "operations": [o.as_dict() for o in self.operations],
            "skipped_channels": self.skipped_channels,
        }


def resync(
    ctx: JobContext,
    ids: list[int],
    *,
    channels: list[ChannelConfig],
    force: bool = False,
    dry_run: bool = False,
) -> ResyncReport:
    """Failed -> pending, sync exactly ``ids`` and the dependants they release, distribute them.

    With ``dry_run`` the same steps run inside one transaction that is rolled back, so the
    store is left as it was and nothing is written to the channels.
    """
    report = ResyncReport(dry_run=dry_run, forced=force)
    if not dry_run:
        outcomes = _resync_steps(ctx, ids, force, report)
        if outcomes:
            from custsync_cli.jobs.distribute import distribute

            distributed = distribute(ctx, channels, only=set(outcomes))
            report.skipped_channels.update(distributed.skipped_channels)
        report.operations = _outcomes(ctx.store.conn, outcomes, report)
        return report
    with rehearsing(ctx) as trial:
        return resync_rehearsed(trial, ids, force=force, report=report)


def resync_rehearsed(
    trial: JobContext, ids: list[int], *, force: bool = False, report: ResyncReport | None = None
) -> ResyncReport:
    """The dry run of ``resync`` on a context already in a rehearsal (``rehearsing``): the
    steps run and are reported, nothing is distributed, the rehearsal's end rolls them back."""
    report = report or ResyncReport(dry_run=True, forced=force)
    outcomes = _resync_steps(trial, ids, force, report)
    report.operations = _outcomes(trial.store.conn, outcomes, report)
    return report


def _resync_steps(
    ctx: JobContext, ids: list[int], force: bool, report: ResyncReport
) -> dict[int, int | None]:
    """Mark the chosen operations for resync and sync them; operation id -> released_by."""
    from custsync_cli.jobs.sync import sync

    now = utc_now()
    with ctx.store.transaction() as conn:
        operations = load_editable(conn, ids, "resynced")
        chosen = [op.id for op in operations]
        failed = [op.id for op in operations if op.status == Status.FAILED]
        mark_for_resync(conn, failed, now)
        append_events(
            conn,
            [
                AuditEvent(
                    action="resync_requested",
                    actor=ctx.actor,
                    at=now,
                    operation_id=op.id,
                    customer_account=op.customer_account,
                    channel=op.channel,
                    details={"from_status": op.status, "force": force},
                )
                for op in operations
                if op.status != Status.BLOCKED
            ],
        )
        waiting = {row["id"]: row["blocked_by"] for row in blocked_dependants(conn, chosen)}
    result = sync(ctx, only=set(chosen), force=frozenset(chosen) if force else frozenset())
    outcomes: dict[int, int | None] = dict.fromkeys(chosen)
    for op_id in sorted(result.outcomes):
        if op_id not in outcomes:
            outcomes[op_id] = waiting.get(op_id)
    return outcomes


def _outcomes(
    conn: sqlite3.Connection, outcomes: dict[int, int | None], report: ResyncReport
) -> list[Outcome]:
    results: list[Outcome] = []
    for op_id in sorted(outcomes):
        row = resync_outcome_row(conn, op_id)
        outcome = Outcome(
            id=int(row["id"]),
            operation=row["operation"],
            channel=row["channel"],
            async_account=row["async_account"],
            customer_account=row["customer_account"],
            status=row["status"],
            waits_for=row["blocked_by"],
            released_by=outcomes[op_id],
            distributed=row["distributed_at"] is not None,
        )
        if outcome.status == Status.FAILED:
            outcome.errors = [e.as_dict() for e in operation_errors(conn, op_id)]
        outcome.conflicts = _conflicts(conn, op_id) if outcome.status == Status.SYNCED else []
        results.append(outcome)
    return results


def _conflicts(conn: sqlite3.Connection, op_id: int) -> list[Conflict]:
    return [Conflict(*kept) for kept in kept_conflicts(conn, op_id)]
