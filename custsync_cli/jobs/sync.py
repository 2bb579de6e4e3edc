"""The sync job: validate pending operations and apply them to the HQ customer master."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli import faults
from custsync_cli.context import JobContext
from custsync_cli.domain.decision import Action, Decision, conflicts_json, decide
from custsync_cli.domain.models import (
    FieldError,
    Operation,
    OperationType,
    Status,
)
from custsync_cli.errors import ConfigError
from custsync_cli.store import hq
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.batch import BatchView, DeferredWrites
from custsync_cli.store.lookups import StoreLookups
from custsync_cli.store.operations import (
    ids_with_errors,
    load_operations,
    mark_blocked,
    mark_failed,
    pending_ids,
    record_conflicts,
    release_blocked,
    replace_errors,
)
from custsync_cli.timeutil import utc_now


@dataclass
class SyncResult:
    synced: int = 0
    failed: int = 0
    blocked: int = 0
    released: int = 0
    conflicts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    outcomes: dict[int, str] = field(default_factory=dict)
    # Only a scoped sync (resync) reports per-operation outcomes; a full run over millions of
    # operations keeps counts only, so its memory stays flat.
    track_outcomes: bool = True


def sync(
    ctx: JobContext, only: set[int] | None = None, force: frozenset[int] = frozenset()
) -> SyncResult:
    """Sync every pending operation, or just ``only`` (and the dependants they release)."""
    result = SyncResult(track_outcomes=only is not None)
    with ctx.store.transaction() as conn:
        hq.ensure_sequence(conn, ctx.config.sequence)
        _refuse_taken_accounts(conn, ctx.config.sequence.name)
    scope = set(only) if only is not None else None
    while True:
        ctx.stop.check()
        with ctx.store.transaction() as conn:
            if scope is None:
                ids = pending_ids(conn, ctx.batch_size)
            else:
                ids = sorted(scope)[: ctx.batch_size]
                scope.difference_update(ids)
            if not ids:
                break
            operations = [op for op in load_operations(conn, ids) if op.status == Status.PENDING]
            before = (result.synced, result.failed, result.blocked)
            batch = _Batch(ctx, conn, result, scope, force, operations)
            batch.with_errors = ids_with_errors(conn, ids)
            for operation in operations:
                batch.process(operation)
            batch.flush()
            append_events(conn, batch.events)
            ctx.record_batch(
                {
                    "synced": result.synced - before[0],
                    "failed": result.failed - before[1],
                    "blocked": result.blocked - before[2],
                }
            )
            faults.point("sync.before_commit")
        faults.point("sync.after_commit")
        ctx.progress("sync", None, len(ids))
    return result


class _Batch(StoreLookups):
    """Applies the operations of one transaction and collects their audit events.

    It answers the decision's questions about HQ from the batch's view where it has one.
    """

    def __init__(
        self,
        ctx: JobContext,
        conn: sqlite3.Connection,
        result: SyncResult,
        scope: set[int] | None,
        force: frozenset[int],
        operations: list[Operation],
    ) -> None:
        self.ctx = ctx
        self.conn = conn
        self.result = result
        self.scope = scope
        self.force = force
        self.now = utc_now()
        self.events: list[AuditEvent] = []
        self.with_errors: set[int] = set()
        self.view = BatchView(conn, operations, ctx.config.sequence.name)
        self.deferred = DeferredWrites(conn)
        self.warn_duplicate_email = ctx.config.validation.warn_duplicate_email

    def flush(self) -> None:
        self.deferred.flush()
        self.view.flush()

    def outcome(self, op: Operation, status: Status) -> None:
        if self.result.track_outcomes:
            self.result.outcomes[op.id] = status

    def clear_errors(self, op: Operation) -> None:
        """Delete the operation's old errors, skipping the query when it has none."""
        if op.id in self.with_errors:
            replace_errors(self.conn, op.id, [])
            self.with_errors.discard(op.id)

    def event(self, op: Operation, action: str, **details: Any) -> None:
        self.events.append(
            AuditEvent(
                action=action,
                actor=self.ctx.actor,
                at=self.now,
                operation_id=op.id,
                customer_account=op.customer_account,
                channel=op.channel,
                details=details,
            )
        )

    # What the decision asks of HQ ----------------------------------------------------------

    def customer(self, async_account: str) -> dict[str, Any] | None:
        return self.view.customer(async_account)

    def dependency(
        self, op: Operation, create_kind: str, address_id: str | None
    ) -> tuple[int, str] | None:
        self.deferred.flush()
        return super().dependency(op, create_kind, address_id)

    def email_owner(self, email: str, except_account: str | None) -> str | None:
        return self.view.email_owner(email, except_account)

    def later_synced_fields(self, op: Operation) -> dict[str, int]:
        if not self.view.may_have_later_sync(op):
            return {}
        self.deferred.flush()
        return super().later_synced_fields(op)

    # Carrying the decision out ------------------------------------------------------------

    def process(self, op: Operation) -> None:
        decision = decide(
            op,
            self,
            self.ctx.validator,
            warn_duplicate_email=self.warn_duplicate_email,
            forced=op.id in self.force,
        )
        if decision.account is not None:
            # A duplicate create keeps the account it may already carry.
            if op.kind is OperationType.CREATE_CUSTOMER:
                op.customer_account = op.customer_account or decision.account
            else:
                op.customer_account = decision.account
        for warning in decision.warnings:
            self.event(op, "warning", warnings=[warning.as_dict()])
        self.record_old_values(op, decision.current)
        if decision.action is Action.FAIL:
            self.fail(op, decision.errors)
        elif decision.action is Action.WAIT:
            self.wait(op, decision)
        elif decision.action is Action.CREATE:
            self.create_customer(op)
        else:
            self.apply(op, decision)

    def apply(self, op: Operation, decision: Decision) -> None:
        account = str(decision.account)
        changes = {k: v for k, v in op.values.items() if k not in decision.conflicts}
        if op.kind is OperationType.UPDATE_CUSTOMER:
            customer = self.view.customer(op.async_account)
            assert customer is not None
            self.view.update_customer(customer, changes, self.now)
            self.succeed(op, account, decision.conflicts, applied=changes)
            return
        hq.upsert_address(
            self.conn,
            account,
            str(op.values["address_id"]),
            changes,
            self.now,
            create=op.kind is OperationType.CREATE_ADDRESS,
        )
        self.succeed(op, account, decision.conflicts)

    def create_customer(self, op: Operation) -> None:
        sequence = self.ctx.config.sequence
        try:
            account = self.view.numbers.draw()
        except hq.SequenceExhausted:
            last = f"{sequence.prefix}{sequence.last:0{sequence.width}d}"
            self.fail(
                op,
                [
                    FieldError(
                        "customer_account",
                        "sequence_exhausted",
                        f"number sequence '{sequence.name}' has no account numbers left"
                        f" (the last is {last})",
                    )
                ],
            )
            return
        self.view.insert_customer(account, op.async_account, op.channel, op.values, op.id, self.now)
        self.deferred.owner_accounts.append((account, op.async_account))
        self.succeed(op, account, {}, applied=op.values)

    def wait(self, op: Operation, decision: Decision) -> None:
        """Block behind the create this operation needs."""
        waits_for = decision.waits_for
        assert waits_for is not None
        mark_blocked(
            self.conn, op.id, waits_for, decision.wait_message(), op.customer_account, self.now
        )
        self.clear_errors(op)
        self.view.waiting.setdefault(waits_for, []).append(op.id)
        self.result.blocked += 1
        self.outcome(op, Status.BLOCKED)
        self.event(op, "blocked", waits_for=waits_for)

    def record_old_values(self, op: Operation, current: hq.Values | None) -> None:
        if not current:
            return
        self.deferred.old_values.append((op.id, {name: current.get(name) for name in op.values}))

    def fail(self, op: Operation, errors: list[FieldError]) -> None:
        mark_failed(self.conn, op, errors, self.now)
        replace_errors(self.conn, op.id, errors, had_errors=op.id in self.with_errors)
        self.with_errors.add(op.id)
        self.result.failed += 1
        self.outcome(op, Status.FAILED)
        self.event(op, "sync_failed", errors=[e.as_dict() for e in errors])

    def succeed(
        self,
        op: Operation,
        account: str,
        conflicts: dict[str, int],
        applied: hq.Values | None = None,
    ) -> None:
        """Mark ``op`` synced; ``applied`` (the HQ customer values it wrote) goes into its event,
        so that ``audit verify`` can replay the customer master."""
        op.customer_account = account
        synced = (
            self.deferred.synced_unblocked if op.blocked_by is not None else self.deferred.synced
        )
        synced.append((account, self.now, self.now, op.id))
        self.view.note_synced(op)
        self.clear_errors(op)
        conflict_list = conflicts_json(conflicts)
        if conflicts:
            record_conflicts(self.conn, op.id, conflicts)
            self.result.conflicts[op.id] = conflict_list
        self.result.synced += 1
        self.outcome(op, Status.SYNCED)
        details: dict[str, Any] = {"fields": sorted(op.values)}
        if conflict_list:
            details["conflicts"] = conflict_list
        if applied is not None:
            details["applied"] = applied
        self.event(op, "synced", **details)
        if op.kind is not None and op.kind.is_create:
            self.release(op)

    def release(self, op: Operation) -> None:
        released = sorted(self.view.waiting.pop(op.id, ()))
        if not released:
            return
        release_blocked(self.conn, released, self.now)
        for op_id in released:
            self.events.append(
                AuditEvent(
                    action="released",
                    actor=self.ctx.actor,
                    at=self.now,
                    operation_id=op_id,
                    channel=op.channel,
                    customer_account=op.customer_account,
                    details={"released_by": op.id},
                )
            )
        self.result.released += len(released)
        if self.scope is not None:
            self.scope.update(released)


def _refuse_taken_accounts(conn: sqlite3.Connection, name: str) -> None:
    """Stop before a create draws an account that an HQ customer already has.

    That happens when ``sequence.name`` (or its prefix or numbers) changes: a new sequence
    starts again at ``first`` while the old one's accounts are in use.
    """
    taken = hq.first_taken_account(conn, name)
    if taken is None:
        return
    others = hq.other_sequences(conn, name)
    names = " or ".join(f"'{other}'" for other in others)
    restore = f"set sequence.name back to {names}" if others else "change sequence.prefix"
    raise ConfigError(
        f"number sequence '{name}' would hand out account {taken}, which an HQ customer"
        f" already has: {restore}, or set sequence.first above the highest account in use"
    )
