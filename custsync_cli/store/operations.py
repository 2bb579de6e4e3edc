"""Read and update operations and their field values in the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from custsync_cli.domain.models import FieldError, Operation, summarize_errors
from custsync_cli.store.database import chunked, placeholders

CUSTOMER_KINDS = ("create_customer", "update_customer")
ADDRESS_KINDS = ("create_address", "update_address")

# The columns of Operation's fields, in their order, so a row builds an Operation directly.
OPERATION_COLUMNS = ", ".join(f.name for f in fields(Operation) if f.name != "values")


def load_operations(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Operation]:
    """Operations by id, in id order, with their effective new values (dropped fields left out)."""
    operations: list[Operation] = []
    for chunk in chunked(ids):
        marks = placeholders(len(chunk))
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: one Operation per row, no dict in between
        rows = cursor.execute(
            f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id IN ({marks})", chunk
        ).fetchall()
        values: dict[int, dict[str, str | None]] = {row[0]: {} for row in rows}
        for op_id, name, value in cursor.execute(
            "SELECT operation_id, name, new_value FROM operation_fields"
            f" WHERE operation_id IN ({marks}) AND dropped = 0",
            chunk,
        ):
            values[op_id][name] = value
        for row in rows:
            operation = Operation(*row)
            operation.values = values[row[0]]
            operations.append(operation)
    operations.sort(key=lambda op: op.id)
    return operations


def load_operation(conn: sqlite3.Connection, op_id: int) -> Operation | None:
    found = load_operations(conn, [op_id])
    return found[0] if found else None


def field_rows(conn: sqlite3.Connection, op_id: int) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in conn.execute(
            "SELECT name, channel_value, new_value, old_value, edited, dropped, conflict_with"
            " FROM operation_fields WHERE operation_id = ? ORDER BY name",
            (op_id,),
        )
    ]


def operation_errors(conn: sqlite3.Connection, op_id: int) -> list[FieldError]:
    return [
        FieldError(row[0], row[1], row[2])
        for row in conn.execute(
            "SELECT field, code, message FROM operation_errors WHERE operation_id = ?"
            " ORDER BY rowid",
            (op_id,),
        )
    ]


def ids_with_errors(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` have recorded errors (one query per chunk instead of one each)."""
    found: set[int] = set()
    for chunk in chunked(ids):
        found.update(
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT operation_id FROM operation_errors"
                f" WHERE operation_id IN ({placeholders(len(chunk))})",
                chunk,
            )
        )
    return found


def replace_errors(
    conn: sqlite3.Connection, op_id: int, errors: list[FieldError], *, had_errors: bool = True
) -> None:
    """Make ``errors`` the operation's recorded errors (``had_errors=False`` skips the delete)."""
    if had_errors:
        conn.execute("DELETE FROM operation_errors WHERE operation_id = ?", (op_id,))
    if errors:
        conn.executemany(
            "INSERT INTO operation_errors (operation_id, field, code, message) VALUES (?, ?, ?, ?)",
            [(op_id, e.field, e.code, e.message) for e in errors],
        )


def first_create(
    conn: sqlite3.Connection, op: Operation, create_kind: str, address_id: str | None
) -> tuple[int, str] | None:
    """The (id, status) of the first ``create_kind`` of ``op``'s async customer (and address)."""
    row = conn.execute(
        "SELECT id, status FROM operations WHERE async_account = ? AND operation = ?"
        " AND address_id IS ? AND id != ? ORDER BY timestamp, id LIMIT 1",
        (op.async_account, create_kind, address_id, op.id),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row is not None else None


def later_synced_fields(conn: sqlite3.Connection, op: Operation) -> dict[str, int]:
    """Field -> the latest synced operation of the same customer (and kind of record), later
    than ``op``, that applied it."""
    kinds = ADDRESS_KINDS if op.operation in ADDRESS_KINDS else CUSTOMER_KINDS
    rows = conn.execute(
        "SELECT f.name, max(o.id) FROM operations o JOIN operation_fields f"
        " ON f.operation_id = o.id WHERE o.async_account = ? AND o.status = 'synced'"
        " AND o.id != ? AND (o.timestamp > ? OR (o.timestamp = ? AND o.id > ?))"
        " AND o.operation IN (?, ?) AND o.address_id IS ? AND f.dropped = 0"
        " AND f.conflict_with IS NULL GROUP BY f.name",
        (op.async_account, op.id, op.timestamp, op.timestamp, op.id, *kinds, op.address_id),
    ).fetchall()
    return {str(name): int(by) for name, by in rows}


def blocked_dependants(conn: sqlite3.Connection, ids: Sequence[int]) -> list[sqlite3.Row]:
    """Blocked operations waiting on any of ``ids``, in id order: id, blocked_by, channel,
    customer_account."""
    found: list[sqlite3.Row] = []
    for chunk in chunked(ids):
        cursor = conn.cursor()
        cursor.row_factory = sqlite3.Row
        found += cursor.execute(
            "SELECT id, blocked_by, channel, customer_account FROM operations"
            f" WHERE blocked_by IN ({placeholders(len(chunk))}) AND +status = 'blocked'",
            chunk,
        ).fetchall()
    found.sort(key=lambda row: int(row["id"]))
    return found


def save_field_edits(
    conn: sqlite3.Connection,
    op_id: int,
    edits: Sequence[tuple[str, str | None, bool]],
    *,
    address_id_column: bool,
    now: str,
) -> None:
    """An operator's ``(field, new value, unset)`` edits, and the operation's version bumped.

    An unset drops the field (the channel's value stays on record); ``address_id_column``
    keeps the operation's ``address_id`` column in step when that field is edited.
    """
    for name, value, unset in edits:
        if unset:
            conn.execute(
                "UPDATE operation_fields SET dropped = 1, edited = 1"
                " WHERE operation_id = ? AND name = ?",
                (op_id, name),
            )
        else:
            conn.execute(
                "INSERT INTO operation_fields (operation_id, name, channel_value, new_value,"
                " edited) VALUES (?, ?, NULL, ?, 1) ON CONFLICT (operation_id, name) DO UPDATE"
                " SET new_value = excluded.new_value, edited = 1, dropped = 0",
                (op_id, name, value),
            )
        if name == "address_id" and address_id_column:
            conn.execute("UPDATE operations SET address_id = ? WHERE id = ?", (value, op_id))
    conn.execute(
        "UPDATE operations SET version = version + 1, updated_at = ? WHERE id = ?", (now, op_id)
    )


def operation_kinds(conn: sqlite3.Connection, ids: Sequence[int]) -> set[str]:
    """The distinct operation types among ``ids``."""
    return {
        str(row[0])
        for chunk in chunked(ids)
        for row in conn.execute(
            f"SELECT DISTINCT operation FROM operations WHERE id IN ({placeholders(len(chunk))})",
            chunk,
        )
    }


def mark_for_resync(conn: sqlite3.Connection, ids: Sequence[int], now: str) -> None:
    """Failed operations among ``ids`` back to pending, so the sync job takes them again."""
    conn.executemany(
        "UPDATE operations SET status = 'pending', version = version + 1, updated_at = ?"
        " WHERE id = ? AND status = 'failed'",
        [(now, op_id) for op_id in ids],
    )


def mark_discarded(conn: sqlite3.Connection, op_id: int, reason: str, now: str) -> None:
    conn.execute(
        "UPDATE operations SET status = 'discarded', discard_reason = ?, blocked_by = NULL,"
        " updated_at = ?, version = version + 1 WHERE id = ?",
        (reason, now, op_id),
    )


def fail_blocked(conn: sqlite3.Connection, op_id: int, errors: list[FieldError], now: str) -> None:
    """A blocked operation fails with ``errors`` (its dependency will never sync)."""
    conn.execute(
        "UPDATE operations SET status = 'failed', last_error = ?, blocked_by = NULL,"
        " updated_at = ?, version = version + 1 WHERE id = ?",
        (summarize_errors(errors), now, op_id),
    )
    replace_errors(conn, op_id, errors)


def resync_outcome_row(conn: sqlite3.Connection, op_id: int) -> sqlite3.Row:
    """What a resync reports of one operation: identity, status, what it waits for."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    row: sqlite3.Row = cursor.execute(
        "SELECT id, operation, channel, async_account, customer_account, status,"
        " blocked_by, distributed_at FROM operations WHERE id = ?",
        (op_id,),
    ).fetchone()
    return row


def kept_conflicts(
    conn: sqlite3.Connection, op_id: int
) -> list[tuple[str, str | None, str | None, int]]:
    """Fields a sync kept from a later operation: (field, wanted, kept, kept_from_operation)."""
    return [
        (str(name), wanted, kept, int(by))
        for name, wanted, by, kept in conn.execute(
            "SELECT f.name, f.new_value, f.conflict_with, later.new_value"
            " FROM operation_fields f LEFT JOIN operation_fields later"
            " ON later.operation_id = f.conflict_with AND later.name = f.name"
            " WHERE f.operation_id = ? AND f.conflict_with IS NOT NULL ORDER BY f.name",
            (op_id,),
        )
    ]
