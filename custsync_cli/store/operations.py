"""Read and update operations and their field values in the store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from custsync_cli.domain.models import FieldError, Operation, summarize_errors
from custsync_cli.store.database import chunked, placeholders
from custsync_cli.store.field_values import FIELD_COLUMNS, FieldValues, encode

CUSTOMER_KINDS = ("create_customer", "update_customer")
ADDRESS_KINDS = ("create_address", "update_address")

# The columns of Operation's fields, in their order, so a row builds an Operation directly.
OPERATION_COLUMNS = ", ".join(f.name for f in fields(Operation) if f.name != "values")


def load_operations(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Operation]:
    """Operations by id, in id order, with their effective new values (dropped fields left out)."""
    operations: list[Operation] = []
    loads = json.loads
    for chunk in chunked(ids):
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: one Operation per row, no dict in between
        for row in cursor.execute(
            f"SELECT {OPERATION_COLUMNS}, new_values FROM operations"
            f" WHERE id IN ({placeholders(len(chunk))})",
            chunk,
        ):
            operation = Operation(*row[:-1])
            operation.values = loads(row[-1])
            operations.append(operation)
    operations.sort(key=lambda op: op.id)
    return operations


def load_operation(conn: sqlite3.Connection, op_id: int) -> Operation | None:
    found = load_operations(conn, [op_id])
    return found[0] if found else None


def field_values(conn: sqlite3.Connection, op_id: int) -> FieldValues:
    """The operation's field columns, decoded (empty for an unknown id)."""
    row = conn.execute(
        f"SELECT {', '.join(FIELD_COLUMNS)} FROM operations WHERE id = ?", (op_id,)
    ).fetchone()
    return FieldValues.decode(tuple(row)) if row is not None else FieldValues({})


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
    return latest_appliers(
        conn.execute(
            "SELECT id, new_values, conflicts FROM operations WHERE async_account = ?"
            " AND status = 'synced' AND id != ? AND (timestamp > ? OR (timestamp = ? AND id > ?))"
            " AND operation IN (?, ?) AND address_id IS ? ORDER BY id",
            (op.async_account, op.id, op.timestamp, op.timestamp, op.id, *kinds, op.address_id),
        )
    )


def latest_appliers(rows: Iterable[tuple[int, str, str | None]]) -> dict[str, int]:
    """Field -> the last of ``(id, new_values, conflicts)`` rows, in id order, that applied it
    (a field a sync kept from a newer operation was not applied by that row)."""
    latest: dict[str, int] = {}
    for later_id, new_values, conflicts in rows:
        kept = json.loads(conflicts) if conflicts else {}
        latest.update((name, int(later_id)) for name in json.loads(new_values) if name not in kept)
    return latest


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


def pending_ids(conn: sqlite3.Connection, limit: int) -> list[int]:
    """The first ``limit`` pending operations' ids, in id order: the sync job's next batch."""
    return [
        row[0]
        for row in conn.execute(
            # Without INDEXED BY the planner picks operations_status and sorts every pending
            # row on each batch: quadratic over a large backlog.
            "SELECT id FROM operations INDEXED BY operations_to_sync"
            " WHERE status = 'pending' ORDER BY id LIMIT ?",
            (limit,),
        )
    ]


def to_distribute(conn: sqlite3.Connection, after: int, limit: int) -> list[tuple[Any, ...]]:
    """The next ``limit`` synced, undistributed operations after id ``after``, in id order:
    (id, channel, async_account, customer_account)."""
    return conn.execute(
        # INDEXED BY: left alone, the planner reads and sorts every synced operation per batch.
        "SELECT id, channel, async_account, customer_account FROM operations"
        " INDEXED BY operations_to_distribute"
        " WHERE status = 'synced' AND distributed_at IS NULL AND id > ? ORDER BY id LIMIT ?",
        (after, limit),
    ).fetchall()


def mark_distributed(conn: sqlite3.Connection, ids: Sequence[int], now: str) -> None:
    """Operations ``ids`` written back to their channel at ``now``."""
    conn.executemany(
        "UPDATE operations SET distributed_at = ?, updated_at = ? WHERE id = ?",
        [(now, now, op_id) for op_id in ids],
    )


def stored_counters(conn: sqlite3.Connection, channel: str, low: int, high: int) -> set[int]:
    """The replication counters of ``channel`` between ``low`` and ``high`` already pulled."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT replication_counter FROM operations WHERE channel = ?"
            " AND replication_counter BETWEEN ? AND ?",
            (channel, low, high),
        )
    }


def next_operation_id(conn: sqlite3.Connection) -> int:
    """The id the next pulled operation takes."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM operations").fetchone()[0]) + 1


def insert_pulled(
    conn: sqlite3.Connection,
    operations: Sequence[tuple[Any, ...]],
    errors: Sequence[tuple[Any, ...]],
) -> None:
    """Pulled operations, one statement for all (id, channel, replication_counter, operation,
    async_account, address_id, status, timestamp, created_by, pulled_at, updated_at,
    last_error, new_values), and their errors (operation_id, field, code, message)."""
    conn.executemany(
        "INSERT INTO operations (id, channel, replication_counter, operation, async_account,"
        " address_id, status, timestamp, created_by, pulled_at, updated_at, last_error,"
        " new_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        operations,
    )
    conn.executemany(
        "INSERT INTO operation_errors (operation_id, field, code, message) VALUES (?, ?, ?, ?)",
        errors,
    )


def mark_blocked(
    conn: sqlite3.Connection,
    op_id: int,
    waits_for: int,
    message: str,
    account: str | None,
    now: str,
) -> None:
    """``op_id`` waits behind operation ``waits_for``, with ``message`` as its last error."""
    conn.execute(
        "UPDATE operations SET status = 'blocked', blocked_by = ?, last_error = ?,"
        " customer_account = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        (waits_for, message, account, now, op_id),
    )


def mark_failed(
    conn: sqlite3.Connection,
    op: Operation,
    errors: list[FieldError],
    now: str,
) -> None:
    """A sync attempt of ``op`` failed with ``errors`` (the recorded errors are left to the
    caller); it keeps the account it has, else takes ``op.customer_account``."""
    # blocked_by is only cleared where it is set: writing a foreign-key column makes SQLite
    # rewrite every index of the row, several times the cost of the rest of the update.
    unblock = " blocked_by = NULL," if op.blocked_by is not None else ""
    conn.execute(
        "UPDATE operations SET status = 'failed', last_error = ?, attempts = attempts + 1,"
        f" customer_account = coalesce(customer_account, ?),{unblock}"
        " updated_at = ?, version = version + 1 WHERE id = ?",
        (summarize_errors(errors), op.customer_account, now, op.id),
    )


def release_blocked(conn: sqlite3.Connection, ids: Sequence[int], now: str) -> None:
    """Blocked operations ``ids`` back to pending: what they waited for has synced."""
    conn.executemany(
        "UPDATE operations SET status = 'pending', blocked_by = NULL, last_error = NULL,"
        " updated_at = ?, version = version + 1 WHERE id = ?",
        [(now, op_id) for op_id in ids],
    )


def latest_failures(conn: sqlite3.Connection, limit: int) -> list[tuple[int, str | None]]:
    """The newest ``limit`` failed operations, newest first: (id, last_error)."""
    return conn.execute(
        "SELECT id, last_error FROM operations WHERE status = 'failed' ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()


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
    values = field_values(conn, op_id)
    for name, value, unset in edits:
        values.edit(name, value, unset)
        if name == "address_id" and address_id_column:
            conn.execute("UPDATE operations SET address_id = ? WHERE id = ?", (value, op_id))
    conn.execute(
        f"UPDATE operations SET {', '.join(f'{c} = ?' for c in FIELD_COLUMNS)},"
        " version = version + 1, updated_at = ? WHERE id = ?",
        (*values.encoded(), now, op_id),
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
    values = field_values(conn, op_id)
    later = {by: field_values(conn, by) for by in set(values.conflicts.values())}
    return [
        (name, values.wanted(name), later[by].wanted(name), by)
        for name, by in sorted(values.conflicts.items())
    ]


def record_conflicts(conn: sqlite3.Connection, op_id: int, conflicts: dict[str, int]) -> None:
    """Fields a sync kept from a later operation: field -> that operation."""
    conn.execute(
        "UPDATE operations SET conflicts = json_patch(coalesce(conflicts, '{}'), ?) WHERE id = ?",
        (encode(conflicts), op_id),
    )


def record_old_values(
    conn: sqlite3.Connection, old: Sequence[tuple[int, Mapping[str, str | None]]]
) -> None:
    """``(operation, {field: HQ value before it applied})``, merged into the stored old values;
    None removes a field (no HQ value reads the same as none recorded)."""
    conn.executemany(
        "UPDATE operations SET old_values = nullif(json_patch(coalesce(old_values, '{}'), ?),"
        " '{}') WHERE id = ?",
        [(encode(values), op_id) for op_id, values in old],
    )
