"""Edit the new values of failed, blocked or pending operations, one or many, audited."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.context import JobContext
from custsync_cli.domain.fields import Catalogue
from custsync_cli.domain.models import Operation, OperationType
from custsync_cli.errors import ConflictError, UsageError
from custsync_cli.repair import load_editable
from custsync_cli.repair.check import Verdict, check_operation, check_operations
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.operations import (
    load_operation,
    load_operations,
    operation_kinds,
    save_field_edits,
)
from custsync_cli.timeutil import utc_now


@dataclass(frozen=True)
class FieldChange:
    """One field's effective value before and after an edit; ``unset`` drops the field."""

    field: str
    old: str | None
    new: str | None
    unset: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new, "unset": self.unset}


@dataclass
class EditResult:
    """What an edit changed and whether the operation would now pass the sync job."""

    operation_id: int
    operation: str
    status: str
    version: int
    changes: list[FieldChange] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.operation_id,
            "operation": self.operation,
            "status": self.status,
            "version": self.version,
            "changed": bool(self.changes),
            "changes": [c.as_dict() for c in self.changes],
            **self.verdict.as_dict(),
            "dry_run": self.dry_run,
        }


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``FIELD=VALUE`` strings as a mapping; the value may contain '=' but not be empty."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set '{item}' must look like FIELD=VALUE")
        if not value:
            raise UsageError(
                f"--set {name.strip()}= has no value: use --unset {name.strip()} to remove a value"
            )
        values[name.strip()] = value
    return values


def check_field_names(
    kind: OperationType | None, names: Iterable[str], catalogue: Catalogue, what: str
) -> None:
    """Refuse a field name that operations of ``kind`` do not have, listing the valid ones."""
    if kind is None:
        raise UsageError(f"{what} has an unknown operation type; discard it instead")
    allowed = catalogue.allowed_for(kind)
    for name in names:
        if name not in allowed:
            raise UsageError(
                f"unknown field '{name}' for {kind.value} (valid fields: {', '.join(allowed)})"
            )


def plan_changes(
    op: Operation,
    sets: Mapping[str, str],
    unsets: Iterable[str],
    catalogue: Catalogue,
) -> list[FieldChange]:
    """The field changes ``sets`` and ``unsets`` make to ``op``; no-ops are left out."""
    unset_names = list(dict.fromkeys(unsets))
    both = sorted(set(sets) & set(unset_names))
    if both:
        raise UsageError(f"field {', '.join(both)} is both set and unset")
    # A field the channel sent that is not in the catalogue can only be unset: that is the repair.
    named = [*sets, *(name for name in unset_names if name not in op.values)]
    check_field_names(op.kind, named, catalogue, f"operation {op.id}")
    changes: list[FieldChange] = []
    for name, value in sets.items():
        if name not in op.values or op.values[name] != value:
            changes.append(FieldChange(name, op.values.get(name), value))
    for name in unset_names:
        if name in op.values:
            changes.append(FieldChange(name, op.values[name], None, unset=True))
    return changes


def apply_changes(
    conn: sqlite3.Connection,
    op: Operation,
    changes: list[FieldChange],
    *,
    actor: str,
    reason: str,
    now: str,
) -> int:
    """Write ``changes`` and the 'edited' audit event in the caller's transaction; new version."""
    save_field_edits(
        conn,
        op.id,
        [(c.field, c.new, c.unset) for c in changes],
        address_id_column=op.kind is not None and op.kind.is_address,
        now=now,
    )
    version = op.version + 1
    append_events(
        conn,
        [
            AuditEvent(
                action="edited",
                actor=actor,
                at=now,
                operation_id=op.id,
                customer_account=op.customer_account,
                channel=op.channel,
                details={
                    "reason": reason,
                    "version": version,
                    "fields": [c.as_dict() for c in changes],
                },
            )
        ],
    )
    return version


def require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise UsageError("an edit needs --reason TEXT saying why (it goes into the audit log)")
    return reason.strip()


def edit_operation(
    ctx: JobContext,
    op_id: int,
    sets: Mapping[str, str],
    unsets: Iterable[str],
    reason: str | None,
    *,
    expect_version: int | None = None,
) -> EditResult:
    """Edit one operation in one transaction; refuse if its version is not ``expect_version``."""
    why = require_reason(reason)
    catalogue = ctx.validator.catalogue
    with ctx.store.transaction() as conn:
        (op,) = load_editable(conn, [op_id], "edited")
        if expect_version is not None and op.version != expect_version:
            raise ConflictError(
                f"operation {op.id} changed since you opened it (version {expect_version},"
                f" now {op.version}); nothing was saved"
            )
        changes = plan_changes(op, sets, unsets, catalogue)
        version = op.version
        if changes:
            version = apply_changes(conn, op, changes, actor=ctx.actor, reason=why, now=utc_now())
            op = load_operation(conn, op.id) or op
        verdict = check_operation(conn, ctx.config, ctx.validator, op)
    return EditResult(op.id, op.operation, op.status, version, changes, verdict)


def check_bulk_fields(ctx: JobContext, ids: list[int], sets: Mapping[str, str]) -> None:
    """Refuse before asking for confirmation if a set field does not fit every matched one."""
    names = list(sets)
    kinds = operation_kinds(ctx.store.conn, ids)
    for kind in sorted(kinds):
        try:
            parsed = OperationType(kind)
        except ValueError:
            parsed = None
        check_field_names(parsed, names, ctx.validator.catalogue, f"a {kind} operation")


def bulk_edit(
    ctx: JobContext,
    ids: list[int],
    sets: Mapping[str, str],
    unsets: Iterable[str],
    reason: str | None,
) -> list[EditResult]:
    """Edit every operation in ``ids`` in one transaction, one audit event per operation."""
    why = require_reason(reason)
    unset_names = list(unsets)
    catalogue = ctx.validator.catalogue
    results: list[EditResult] = []
    now = utc_now()
    with ctx.store.transaction() as conn:
        for op in load_editable(conn, ids, "edited"):
            changes = plan_changes(op, sets, unset_names, catalogue)
            version = op.version
            if changes:
                version = apply_changes(conn, op, changes, actor=ctx.actor, reason=why, now=now)
            results.append(EditResult(op.id, op.operation, op.status, version, changes))
        fresh = {op.id: op for op in load_operations(conn, ids)}
        verdicts = check_operations(
            conn, ctx.config, ctx.validator, [fresh[r.operation_id] for r in results]
        )
        for result, verdict in zip(results, verdicts, strict=True):
            result.verdict = verdict
    return results
