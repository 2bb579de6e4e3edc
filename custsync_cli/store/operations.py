"""Read and update operations and their field values in the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from custsync_cli.domain.models import FieldError, Operation

OPERATION_COLUMNS = (
    "id, channel, replication_counter, operation, async_account, address_id, customer_account,"
    " status, timestamp, created_by, attempts, last_error, blocked_by, version"
)


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def load_operations(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Operation]:
    """Operations by id, in id order, with their effective new values (dropped fields left out)."""
    if not ids:
        return []
    marks = _placeholders(len(ids))
    rows = conn.execute(
        f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id IN ({marks}) ORDER BY id", list(ids)
    ).fetchall()
    values: dict[int, dict[str, str | None]] = {int(row["id"]): {} for row in rows}
    for op_id, name, value in conn.execute(
        f"SELECT operation_id, name, new_value FROM operation_fields"
        f" WHERE operation_id IN ({marks}) AND dropped = 0",
        list(ids),
    ):
        values[op_id][name] = value
    return [Operation.from_row(dict(row), values[int(row["id"])]) for row in rows]


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
    """Which of ``ids`` have recorded errors (one query for a batch instead of one each)."""
    if not ids:
        return set()
    return {
        int(row[0])
        for row in conn.execute(
            "SELECT DISTINCT operation_id FROM operation_errors"
            f" WHERE operation_id IN ({_placeholders(len(ids))})",
            list(ids),
        )
    }


def replace_errors(conn: sqlite3.Connection, op_id: int, errors: list[FieldError]) -> None:
    conn.execute("DELETE FROM operation_errors WHERE operation_id = ?", (op_id,))
    if errors:
        conn.executemany(
            "INSERT INTO operation_errors (operation_id, field, code, message) VALUES (?, ?, ?, ?)",
            [(op_id, e.field, e.code, e.message) for e in errors],
        )
