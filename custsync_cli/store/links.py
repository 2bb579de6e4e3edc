"""The writes and questions of ``custsync link``: a failed create ends synced onto a customer."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from custsync_cli.domain.models import Operation
from custsync_cli.store.operations import (
    CUSTOMER_KINDS,
    blocked_dependants,
    latest_appliers,
    record_old_values,
    release_blocked,
    replace_errors,
)


def mark_linked(
    conn: sqlite3.Connection,
    op: Operation,
    account: str,
    hq_values: Mapping[str, str | None],
    now: str,
) -> None:
    """``op`` synced onto ``account``; its fields' old values are that customer's values, and
    every operation of its async customer without an account takes this one."""
    conn.execute(
        "UPDATE operations SET status = 'synced', customer_account = ?, synced_at = ?,"
        " last_error = NULL, blocked_by = NULL, attempts = attempts + 1, updated_at = ?,"
        " version = version + 1 WHERE id = ?",
        (account, now, now, op.id),
    )
    replace_errors(conn, op.id, [])
    record_old_values(conn, [(op.id, {name: hq_values.get(name) for name in op.values})])
    conn.execute(
        "UPDATE operations SET customer_account = ? WHERE async_account = ?"
        " AND customer_account IS NULL",
        (account, op.async_account),
    )


def release_dependants(conn: sqlite3.Connection, op_id: int, now: str) -> list[int]:
    """The operations blocked behind ``op_id`` back to pending; their ids, in id order."""
    ids = [int(row["id"]) for row in blocked_dependants(conn, [op_id])]
    release_blocked(conn, ids, now)
    return ids


def later_customer_fields(conn: sqlite3.Connection, account: str, op: Operation) -> dict[str, int]:
    """Field -> the latest synced customer operation of ``account`` (whichever async customer
    it came from) later than ``op`` that applied it: the newer HQ values a link keeps."""
    return latest_appliers(
        conn.execute(
            "SELECT id, new_values, conflicts FROM operations WHERE customer_account = ?"
            " AND status = 'synced' AND id != ? AND (timestamp > ? OR (timestamp = ? AND id > ?))"
            " AND operation IN (?, ?) ORDER BY id",
            (account, op.id, op.timestamp, op.timestamp, op.id, *CUSTOMER_KINDS),
        )
    )
