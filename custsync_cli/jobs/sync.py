"""The sync job: validate pending operations and apply them to the HQ customer master."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli import faults
from custsync_cli.domain.models import (
    FieldError,
    Operation,
    OperationType,
    Status,
    summarize_errors,
)
from custsync_cli.errors import ConfigError
from custsync_cli.jobs.context import JobContext
from custsync_cli.jobs.sync_batch import BatchView, DeferredWrites
from custsync_cli.store import hq
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.database import utc_now
from custsync_cli.store.operations import ids_with_errors, load_operations, replace_errors

CUSTOMER_KINDS = ("create_customer", "update_customer")
ADDRESS_KINDS = ("create_address", "update_address")
CREATE_KINDS = frozenset({"create_customer", "create_address"})


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
                ids = [
                    row[0]
                    for row in conn.execute(
                        # Without INDEXED BY the planner picks operations_status and sorts
                        # every pending row on each batch: quadratic over a large backlog.
                        "SELECT id FROM operations INDEXED BY operations_to_sync"
                        " WHERE status = 'pending' ORDER BY id LIMIT ?",
                        (ctx.batch_size,),
                    )
                ]
            else:
                ids = sorted(scope)[: ctx.batch_size]
                scope.difference_update(ids)
            if not ids:
                break
            operations = [op for op in load_operations(conn, ids) if op.status == Status.PENDING]
            batch = _Batch(ctx, conn, result, scope, force, operations)
            batch.with_errors = ids_with_errors(conn, ids)
            for operation in operations:
                batch.process(operation)
            batch.flush()
            append_events(conn, batch.events)
            faults.point("sync.before_commit")
        faults.point("sync.after_commit")
        ctx.progress("sync", None, len(ids))
    return result


class _Batch:
    """Applies the operations of one transaction and collects their audit events."""

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

    def process(self, op: Operation) -> None:
        kind = op.kind
        validator = self.ctx.validator
        if kind is None:
            self.fail(op, validator.check(None, op.operation, op.values, None))
            return
        customer = self.view.customer(op.async_account)
        if kind is OperationType.CREATE_CUSTOMER:
            self.create_customer(op, customer)
            return
        if customer is None:
            self.wait_or_fail(op, "create_customer", None)
            return
        account = str(customer["account"])
        op.customer_account = account
        current: hq.Values | None
        if kind is OperationType.UPDATE_CUSTOMER:
            current = hq.customer_values(customer)
        else:
            address_id = op.values.get("address_id") or ""
            current = hq.address_values(self.conn, account, address_id) if address_id else None
            if kind is OperationType.CREATE_ADDRESS and current is not None:
                self.fail(
                    op,
                    [
                        FieldError(
                            "address_id",
                            "address_exists",
                            f"address {address_id} already exists for customer {account}",
                        )
                    ],
                )
                return
            if kind is OperationType.UPDATE_ADDRESS and address_id and current is None:
                self.wait_or_fail(op, "create_address", address_id)
                return
        errors = validator.check(kind, op.operation, op.values, current)
        errors += self.duplicate_email(op, account)
        self.record_old_values(op, current)
        if errors:
            self.fail(op, errors)
            return
        changes = dict(op.values)
        conflicts = self.stale_fields(op) if op.id not in self.force else {}
        for name in conflicts:
            changes.pop(name, None)
        if kind is OperationType.UPDATE_CUSTOMER:
            self.view.update_customer(customer, changes, self.now)
        else:
            hq.upsert_address(
                self.conn,
                account,
                str(op.values["address_id"]),
                changes,
                self.now,
                create=kind is OperationType.CREATE_ADDRESS,
            )
        self.succeed(op, account, conflicts)

    def create_customer(self, op: Operation, customer: dict[str, Any] | None) -> None:
        if customer is not None:
            # Recorded whether or not the create that made the customer was in this batch.
            op.customer_account = op.customer_account or str(customer["account"])
            self.fail(
                op,
                [
                    FieldError(
                        "async_account",
                        "customer_exists",
                        f"async customer {op.async_account} already has HQ account"
                        f" {customer['account']}",
                    )
                ],
            )
            return
        errors = self.ctx.validator.check(
            OperationType.CREATE_CUSTOMER, op.operation, op.values, None
        )
        errors += self.duplicate_email(op, None)
        if errors:
            self.fail(op, errors)
            return
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
        self.succeed(op, account, {})

    def wait_or_fail(self, op: Operation, create_kind: str, address_id: str | None) -> None:
        """Block behind the create this operation needs, or fail if there is none to wait for."""
        self.deferred.flush()
        found = find_dependency(self.conn, op, create_kind, address_id)
        if isinstance(found, FieldError):
            self.fail(op, [found])
            return
        waits_for, status = found
        if status == Status.DISCARDED:
            self.fail(op, [discarded_dependency_error(waits_for, create_kind)])
            return
        message = f"waits for operation {waits_for} ({create_kind}, {status})"
        self.conn.execute(
            "UPDATE operations SET status = 'blocked', blocked_by = ?, last_error = ?,"
            " customer_account = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            (waits_for, message, op.customer_account, self.now, op.id),
        )
        self.clear_errors(op)
        self.view.waiting.setdefault(waits_for, []).append(op.id)
        self.result.blocked += 1
        self.outcome(op, Status.BLOCKED)
        self.event(op, "blocked", waits_for=waits_for)

    def duplicate_email(self, op: Operation, account: str | None) -> list[FieldError]:
        email = op.values.get("email")
        if not email:
            return []
        owner = self.view.email_owner(email, account)
        if owner is None:
            return []
        error = FieldError(
            "email",
            "duplicate_email",
            f"email {email} is already used: possible duplicate of {owner}",
        )
        if self.ctx.config.validation.duplicate_email == "warn":
            self.event(op, "warning", warnings=[error.as_dict()])
            return []
        return [error]

    def record_old_values(self, op: Operation, current: hq.Values | None) -> None:
        if not current:
            return
        self.deferred.old_values.extend((current.get(name), op.id, name) for name in op.values)

    def stale_fields(self, op: Operation) -> dict[str, int]:
        """Fields that a later, already synced operation of the same customer changed."""
        if not self.view.may_have_later_sync(op):
            return {}
        self.deferred.flush()
        kinds = ADDRESS_KINDS if op.operation in ADDRESS_KINDS else CUSTOMER_KINDS
        rows = self.conn.execute(
            "SELECT f.name, max(o.id) FROM operations o JOIN operation_fields f"
            " ON f.operation_id = o.id WHERE o.async_account = ? AND o.status = 'synced'"
            " AND o.id != ? AND (o.timestamp > ? OR (o.timestamp = ? AND o.id > ?))"
            " AND o.operation IN (?, ?) AND o.address_id IS ? AND f.dropped = 0"
            " AND f.conflict_with IS NULL GROUP BY f.name",
            (op.async_account, op.id, op.timestamp, op.timestamp, op.id, *kinds, op.address_id),
        ).fetchall()
        return {
            str(name): int(by) for name, by in rows if name in op.values and name != "address_id"
        }

    def fail(self, op: Operation, errors: list[FieldError]) -> None:
        self.conn.execute(
            "UPDATE operations SET status = 'failed', last_error = ?, attempts = attempts + 1,"
            f" customer_account = coalesce(customer_account, ?),{_unblock(op)}"
            " updated_at = ?, version = version + 1 WHERE id = ?",
            (summarize_errors(errors), op.customer_account, self.now, op.id),
        )
        replace_errors(self.conn, op.id, errors, had_errors=op.id in self.with_errors)
        self.with_errors.add(op.id)
        self.result.failed += 1
        self.outcome(op, Status.FAILED)
        self.event(op, "sync_failed", errors=[e.as_dict() for e in errors])

    def succeed(self, op: Operation, account: str, conflicts: dict[str, int]) -> None:
        op.customer_account = account
        synced = (
            self.deferred.synced_unblocked if op.blocked_by is not None else self.deferred.synced
        )
        synced.append((account, self.now, self.now, op.id))
        self.view.note_synced(op)
        self.clear_errors(op)
        conflict_list = [
            {"field": name, "kept_from_operation": by} for name, by in conflicts.items()
        ]
        if conflicts:
            self.conn.executemany(
                "UPDATE operation_fields SET conflict_with = ? WHERE operation_id = ? AND name = ?",
                [(by, op.id, name) for name, by in conflicts.items()],
            )
            self.result.conflicts[op.id] = conflict_list
        self.result.synced += 1
        self.outcome(op, Status.SYNCED)
        details: dict[str, Any] = {"fields": sorted(op.values)}
        if conflict_list:
            details["conflicts"] = conflict_list
        self.event(op, "synced", **details)
        if op.operation in CREATE_KINDS:
            self.release(op)

    def release(self, op: Operation) -> None:
        released = sorted(self.view.waiting.pop(op.id, ()))
        if not released:
            return
        self.conn.executemany(
            "UPDATE operations SET status = 'pending', blocked_by = NULL, last_error = NULL,"
            " updated_at = ?, version = version + 1 WHERE id = ?",
            [(self.now, op_id) for op_id in released],
        )
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


def _unblock(op: Operation) -> str:
    """``blocked_by = NULL`` only when it is set: writing a foreign-key column makes SQLite
    rewrite every index of the row, several times the cost of the rest of the update."""
    return " blocked_by = NULL," if op.blocked_by is not None else ""


def find_dependency(
    conn: sqlite3.Connection, op: Operation, create_kind: str, address_id: str | None
) -> tuple[int, str] | FieldError:
    """The (id, status) of the create ``op`` depends on, or the error if there is none."""
    row = conn.execute(
        "SELECT id, status FROM operations WHERE async_account = ? AND operation = ?"
        " AND address_id IS ? AND id != ? ORDER BY timestamp, id LIMIT 1",
        (op.async_account, create_kind, address_id, op.id),
    ).fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    if address_id is None:
        return FieldError(
            "async_account",
            "unknown_customer",
            f"HQ has never seen async customer {op.async_account}",
        )
    return FieldError(
        "address_id",
        "unknown_address",
        f"customer has no address {address_id} and no operation creates it",
    )


def discarded_dependency_error(waits_for: int, create_kind: str) -> FieldError:
    return FieldError(
        "operation",
        "dependency_discarded",
        f"operation {waits_for} ({create_kind}) that this one depends on was discarded",
    )


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
