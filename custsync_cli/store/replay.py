"""Replay the audit events and compare: operation statuses, HQ customers, account numbers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from custsync_cli.store.audit import VerifyResult, verify_chain
from custsync_cli.store.hq import CUSTOMER_COLUMNS, CUSTOMER_SELECT, customer_values

# The status each audit action leaves an operation in; ``None`` means "unchanged".
ACTION_STATUS: dict[str, str | None] = {
    "synced": "synced",
    "sync_failed": "failed",
    "blocked": "blocked",
    "released": "pending",
    "discarded": "discarded",
    "linked": "synced",
    "distributed": None,
    "edited": None,
    "warning": None,
}


def event_status(action: str, details: dict[str, Any] | str, current: str | None) -> str | None:
    """The status an operation is in after an event, given the status before it.

    ``details`` may be the event's JSON text: most actions decide without reading it.
    """
    if action in ACTION_STATUS:
        return ACTION_STATUS[action] or current
    parsed = json.loads(details) if isinstance(details, str) else details
    if action == "pulled":
        return str(parsed.get("status"))
    if action == "resync_requested":
        return "pending" if parsed.get("from_status") == "failed" else current
    status = parsed.get("status")
    return str(status) if isinstance(status, str) else current


def first_mismatch(conn: sqlite3.Connection) -> str | None:
    """The first operation, HQ customer or number sequence that its audit events do not explain.

    Names ids, accounts and field names only, never a customer's values. Both sides are read
    in the same order and merged, so memory stays flat however large the store.
    """
    return _operations(conn) or _customers(conn)


def _replayed_statuses(conn: sqlite3.Connection) -> Iterator[tuple[int, str | None]]:
    """(operation id, status its events leave it in), in operation id order."""
    events = conn.execute(
        "SELECT operation_id, action, details FROM audit_log INDEXED BY audit_log_operation"
        " WHERE operation_id IS NOT NULL ORDER BY operation_id, id"
    )
    for op_id, rows in groupby(events, key=itemgetter(0)):
        status: str | None = None
        for _, action, details in rows:
            status = event_status(action, details, status)
        yield int(op_id), status


def _operations(conn: sqlite3.Connection) -> str | None:
    replayed = _replayed_statuses(conn)
    ahead = next(replayed, None)
    for op_id, status in conn.execute("SELECT id, status FROM operations ORDER BY id"):
        if ahead is not None and ahead[0] < op_id:
            return f"operation {ahead[0]} has audit events but is missing from operations"
        said = None
        if ahead is not None and ahead[0] == op_id:
            said = ahead[1]
            ahead = next(replayed, None)
        if said != status:
            return f"operation {op_id} is {status} but its audit events say {said or 'nothing'}"
    if ahead is not None:
        return f"operation {ahead[0]} has audit events but is missing from operations"
    return None


@dataclass
class _Replayed:
    """One HQ account as its synced customer events built it."""

    account: str
    creator: int | None = None
    creates: int = 0
    # None when an event written before synced events carried their values leaves them unknown.
    values: dict[str, Any] | None = field(default_factory=dict)


def _replayed_customers(conn: sqlite3.Connection) -> Iterator[_Replayed]:
    """Every account a synced customer event names, in account order, replayed."""
    # A linked create applies its values (if any) to the customer it was linked to, as an
    # update does; it creates nothing.
    events = conn.execute(
        "SELECT s.customer_account, s.operation_id, s.details, json_extract(p.details,"
        " '$.operation'), s.action FROM audit_log s JOIN audit_log p"
        " INDEXED BY audit_log_operation ON p.operation_id = s.operation_id"
        " AND p.action = 'pulled' WHERE s.action IN ('synced', 'linked')"
        " AND s.customer_account IS NOT NULL"
        " AND json_extract(p.details, '$.operation') IN ('create_customer', 'update_customer')"
        " ORDER BY s.customer_account, s.id"
    )
    for account, rows in groupby(events, key=itemgetter(0)):
        done = _Replayed(str(account))
        for _, op_id, details, kind, action in rows:
            applied = json.loads(details).get("applied")
            if kind == "create_customer" and action == "synced":
                done.creator = int(op_id)
                done.creates += 1
                done.values = dict(applied) if isinstance(applied, dict) else None
            elif done.values is not None:
                if isinstance(applied, dict):
                    done.values.update(applied)
                else:
                    done.values = None
        yield done


def _archived_up_to(conn: sqlite3.Connection) -> int:
    """The highest operation id an archive holds (0 without archives)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'archives'"
    ).fetchone():
        return 0
    row = conn.execute("SELECT coalesce(max(last_operation_id), 0) FROM archives").fetchone()
    return int(row[0])


def _customers(conn: sqlite3.Connection) -> str | None:
    drawn: dict[str, int] = {}
    sequences = conn.execute("SELECT name, prefix, width, next_value FROM number_sequences")
    numbering = [(str(n), str(p), int(w), int(v)) for n, p, w, v in sequences]
    archived_up_to = _archived_up_to(conn)
    replayed = _replayed_customers(conn)
    ahead = next(replayed, None)
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    for row in cursor.execute(
        f"SELECT {CUSTOMER_SELECT}, created_by_operation FROM customers ORDER BY account"
    ):
        account = str(row["account"])
        while ahead is not None and ahead.account < account:
            if ahead.creates:
                return _missing(ahead)
            ahead = next(replayed, None)
        done = None
        if ahead is not None and ahead.account == account:
            done, ahead = ahead, next(replayed, None)
        if done is None or not done.creates:
            # Created by an operation that moved to an archive: its create event went with it,
            # so the store vouches for the creator only (the archive holds the rest).
            creator = row["created_by_operation"]
            if creator is None or not 0 < int(creator) <= archived_up_to:
                return f"HQ customer {account} was not created by any synced operation"
        else:
            problem = _compare(done, row)
            if problem:
                return problem
        _note_drawn(drawn, numbering, account)
    while ahead is not None:
        if ahead.creates:
            return _missing(ahead)
        ahead = next(replayed, None)
    for name, prefix, width, next_value in numbering:
        if name in drawn and drawn[name] >= next_value:
            return (
                f"number sequence '{name}' would hand out account"
                f" {prefix}{drawn[name]:0{width}d} again (its next value is {next_value})"
            )
    return None


def _missing(done: _Replayed) -> str:
    return f"HQ customer {done.account} (created by operation {done.creator}) is missing"


def _compare(done: _Replayed, row: sqlite3.Row) -> str | None:
    account = done.account
    if done.creates > 1:
        return f"account {account} was drawn by {done.creates} synced creates"
    if row["created_by_operation"] != done.creator:
        return (
            f"HQ customer {account} names operation {row['created_by_operation']} as its"
            f" create, its audit events say {done.creator}"
        )
    if done.values is None:
        return None
    actual = customer_values(dict(row))
    expected = done.values
    for name in sorted(set(CUSTOMER_COLUMNS) | set(actual) | set(expected)):
        if actual.get(name) != expected.get(name):
            return f"HQ customer {account}: {name} differs from what its audit events applied"
    return None


def _note_drawn(
    drawn: dict[str, int], numbering: list[tuple[str, str, int, int]], account: str
) -> None:
    """Remember the highest account each number sequence handed out."""
    for name, prefix, width, _ in numbering:
        digits = account[len(prefix) :]
        if account.startswith(prefix) and len(digits) == width and digits.isdigit():
            drawn[name] = max(drawn.get(name, 0), int(digits))


def verify_trail(conn: sqlite3.Connection, expect: tuple[int, str] | None = None) -> VerifyResult:
    """``verify_chain``, then the records the chain vouches for: what ``audit verify`` checks."""
    result = verify_chain(conn, expect)
    if not result.ok:
        return result
    mismatch = first_mismatch(conn)
    if mismatch is not None:
        return VerifyResult(False, result.events, mismatch)
    return result
