"""Operations, customers and audit events as the JSON shapes of DESIGN §4 (list, show, audit)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.domain.decision import conflicts_json, newer_fields
from custsync_cli.domain.describe import describe_operation
from custsync_cli.domain.fields import Catalogue
from custsync_cli.domain.models import EDITABLE_STATUSES
from custsync_cli.store import hq
from custsync_cli.store.audit import HASH_HEX_SQL
from custsync_cli.store.database import placeholders
from custsync_cli.store.filters import OperationFilter
from custsync_cli.store.lookups import StoreLookups
from custsync_cli.store.operations import field_values, load_operation
from custsync_cli.store.queries import count_matching, matching_ids

LIST_KEYS = (
    "id",
    "channel",
    "replication_counter",
    "operation",
    "async_account",
    "customer_account",
    "status",
    "timestamp",
    "last_error",
    "blocked_by",
)
DETAIL_KEYS = (
    "address_id",
    "created_by",
    "attempts",
    "pulled_at",
    "synced_at",
    "distributed_at",
    "discard_reason",
    "version",
)


def errors_by_operation(
    conn: sqlite3.Connection, ids: Sequence[int]
) -> dict[int, list[dict[str, str]]]:
    """The errors of many operations in one query, in the order they were recorded."""
    found: dict[int, list[dict[str, str]]] = {op_id: [] for op_id in ids}
    if not ids:
        return found
    for op_id, name, code, text in conn.execute(
        "SELECT operation_id, field, code, message FROM operation_errors"
        f" WHERE operation_id IN ({placeholders(len(ids))}) ORDER BY operation_id, rowid",
        list(ids),
    ):
        found[int(op_id)].append({"field": name, "code": code, "message": text})
    return found


def operation_rows(
    conn: sqlite3.Connection, ids: Sequence[int], columns: Sequence[str] = LIST_KEYS
) -> list[dict[str, Any]]:
    """Rows of ``operations`` by id, in the order of ``ids``."""
    if not ids:
        return []
    found = {
        int(row["id"]): dict(row)
        for row in conn.execute(
            f"SELECT {', '.join(columns)} FROM operations WHERE id IN ({placeholders(len(ids))})",
            list(ids),
        )
    }
    return [found[op_id] for op_id in ids if op_id in found]


def list_json(row: dict[str, Any], errors: list[dict[str, str]]) -> dict[str, Any]:
    """The DESIGN §4 object of one operation, keys in contract order."""
    out = {key: row[key] for key in LIST_KEYS}
    out["errors"] = errors
    return out


@dataclass
class Page:
    """One page of ``list``: the operations shown and how many match in all."""

    operations: list[dict[str, Any]]
    total: int
    offset: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.offset - len(self.operations), 0)


def list_page(
    conn: sqlite3.Connection, flt: OperationFilter, *, limit: int | None, offset: int = 0
) -> Page:
    """Matching operations, newest first: ids from the indexes, then one query per table.

    ``limit`` None means every match from ``offset`` on."""
    ids = matching_ids(conn, flt, limit=limit, offset=offset)
    total = count_matching(conn, flt) if len(ids) == limit or offset else len(ids)
    errors = errors_by_operation(conn, ids)
    rows = operation_rows(conn, ids)
    return Page([list_json(row, errors[row["id"]]) for row in rows], total, offset)


def history(conn: sqlite3.Connection, op_id: int) -> list[dict[str, Any]]:
    """Every audit event of one operation, oldest first."""
    return [
        audit_json(row)
        for row in conn.execute(
            "SELECT id, at, actor, action, operation_id, customer_account, channel, details,"
            f" {HASH_HEX_SQL}"
            " FROM audit_log WHERE operation_id = ? ORDER BY id",
            (op_id,),
        )
    ]


def audit_json(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    data = dict(row)
    with contextlib.suppress(ValueError):
        data["details"] = json.loads(data["details"] or "{}")
    return data


def _field_order(catalogue: Catalogue) -> dict[str, int]:
    return {name: index for index, name in enumerate(catalogue.all_fields)}


def field_grid(
    conn: sqlite3.Connection,
    op: dict[str, Any],
    errors: list[dict[str, str]],
    catalogue: Catalogue,
) -> list[dict[str, Any]]:
    """One row per field with old, new, channel and edited values and what marks it."""
    failing = {error["field"] for error in errors}
    current = _current_values(conn, op)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in field_values(conn, int(op["id"])).records():
        name = str(row["name"])
        seen.add(name)
        old = current.get(name) if current is not None else row["old_value"]
        new = row["new_value"]
        dropped = row["dropped"]
        rows.append(
            {
                "name": name,
                "old": old,
                "new": None if dropped else new,
                "channel_value": row["channel_value"],
                "edited": row["edited"] or (not dropped and new != row["channel_value"]),
                "changed": not dropped and (new or None) != (old or None),
                "failing": name in failing,
                "dropped": dropped,
                "conflict_with": row["conflict_with"],
                "sent": True,
            }
        )
    for name in sorted(failing - seen):
        if catalogue.is_known(name):
            old = current.get(name) if current is not None else None
            rows.append(
                {
                    "name": name,
                    "old": old,
                    "new": None,
                    "channel_value": None,
                    "edited": False,
                    "changed": False,
                    "failing": True,
                    "dropped": False,
                    "conflict_with": None,
                    "sent": False,
                }
            )
    order = _field_order(catalogue)
    rows.sort(key=lambda r: (order.get(r["name"], len(order)), r["name"]))
    return rows


def _current_values(conn: sqlite3.Connection, op: dict[str, Any]) -> hq.Values | None:
    """HQ's values now: "old" while an update has not been applied yet (the value a previous
    attempt saw may since have been changed by a newer synced operation)."""
    if op["status"] == "synced" or op["operation"] not in ("update_customer", "update_address"):
        return None
    customer = hq.customer_by_async(conn, op["async_account"])
    if customer is None:
        return None
    if op["operation"] == "update_customer":
        return hq.customer_values(customer)
    if not op.get("address_id"):
        return None
    return hq.address_values(conn, str(customer["account"]), str(op["address_id"]))


def _newer_fields(conn: sqlite3.Connection, row: dict[str, Any]) -> dict[str, int]:
    """The fields a resync of this operation would keep from a newer synced operation."""
    if row["status"] not in EDITABLE_STATUSES:
        return {}
    op = load_operation(conn, int(row["id"]))
    return newer_fields(op, StoreLookups(conn)) if op is not None else {}


def _link_hint(
    conn: sqlite3.Connection, row: dict[str, Any], errors: list[dict[str, str]]
) -> str | None:
    """For a create that failed as a duplicate email: the ``link`` command that resolves it
    onto the customer who has that email now. Names the account only, never the email."""
    if row["status"] != "failed" or row["operation"] != "create_customer":
        return None
    if not any(error["code"] == "duplicate_email" for error in errors):
        return None
    email = conn.execute(
        "SELECT json_extract(new_values, '$.email') FROM operations WHERE id = ?", (row["id"],)
    ).fetchone()
    owner = hq.email_owner(conn, email[0], None) if email and email[0] else None
    if owner is None:
        return None
    return f'custsync link {row["id"]} --to {owner} --reason "same person as {owner}"'


def operation_detail(
    conn: sqlite3.Connection, op_id: int, catalogue: Catalogue
) -> dict[str, Any] | None:
    """Everything ``show`` prints: the list object plus header details, fields and history."""
    rows = operation_rows(conn, [op_id], (*LIST_KEYS, *DETAIL_KEYS))
    if not rows:
        return None
    row = rows[0]
    errors = errors_by_operation(conn, [op_id])[op_id]
    detail = list_json(row, errors)
    fields = field_grid(conn, row, errors, catalogue)
    events = history(conn, op_id)
    linked = [event for event in events if event["action"] == "linked"]
    row["linked_by"] = linked[-1]["actor"] if linked else None
    detail["change_description"] = " ".join(describe_operation(row, fields, errors))
    detail["link_hint"] = _link_hint(conn, row, errors)
    detail["fields"] = [
        {key: value for key, value in f.items() if key != "sent"} for f in fields if f["sent"]
    ]
    detail["missing_fields"] = [f["name"] for f in fields if not f["sent"]]
    detail["conflicts"] = conflicts_json(_newer_fields(conn, row))
    detail["history"] = events
    for key in DETAIL_KEYS:
        detail[key] = row[key]
    return detail


@dataclass
class CustomerView:
    """The HQ customer (None while it is still pending sync) and the operations that shaped it."""

    customer_account: str | None
    async_account: str
    record: dict[str, Any] | None
    operations: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_account": self.customer_account,
            "async_account": self.async_account,
            "customer": self.record,
            "operations": self.operations,
        }


def customer_view(
    conn: sqlite3.Connection, account: str, catalogue: Catalogue
) -> CustomerView | None:
    """Look ``account`` up as an HQ account, then as an async account; None if neither."""
    customer = hq.customer_by_account(conn, account) or hq.customer_by_async(conn, account)
    if customer is not None:
        async_account = str(customer["async_account"])
        hq_account: str | None = str(customer["account"])
    else:
        async_account = account
        hq_account = None
    ids = [
        int(row[0])
        for row in conn.execute(
            "SELECT id FROM operations WHERE async_account = ? ORDER BY timestamp, id",
            (async_account,),
        )
    ]
    if customer is None and not ids:
        return None
    record = hq.customer_record(conn, hq_account) if hq_account else None
    errors = errors_by_operation(conn, ids)
    operations = []
    for row in operation_rows(conn, ids, (*LIST_KEYS, *DETAIL_KEYS)):
        fields = field_grid(conn, row, errors[row["id"]], catalogue)
        item = list_json(row, errors[row["id"]])
        item["change_description"] = " ".join(describe_operation(row, fields, errors[row["id"]]))
        operations.append(item)
    return CustomerView(hq_account, async_account, record, operations)


@dataclass
class AuditFilter:
    """Filters of ``custsync audit``; empty means every event."""

    operation_id: int | None = None
    actors: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None

    def check(self, conn: sqlite3.Connection) -> None:
        """Refuse an action that is neither recorded by custsync nor present in the log."""
        from custsync_cli.store.audit import ACTIONS
        from custsync_cli.store.filters import unknown_value

        for action in self.actions:
            if action in ACTIONS:
                continue
            if conn.execute(
                "SELECT 1 FROM audit_log WHERE action = ? LIMIT 1", (action,)
            ).fetchone():
                continue
            stored = [str(row[0]) for row in conn.execute("SELECT DISTINCT action FROM audit_log")]
            raise unknown_value("--action", "action", action, [*ACTIONS, *stored])

    def clause(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.operation_id is not None:
            parts.append("operation_id = ?")
            params.append(self.operation_id)
        if self.actors:
            parts.append(f"actor IN ({placeholders(len(self.actors))})")
            params.extend(self.actors)
        if self.actions:
            parts.append(f"action IN ({placeholders(len(self.actions))})")
            params.extend(self.actions)
        if self.since:
            parts.append("at >= ?")
            params.append(self.since)
        if self.until:
            parts.append("at <= ?")
            params.append(self.until)
        return (" AND ".join(parts) or "1"), params


def audit_page(
    conn: sqlite3.Connection, flt: AuditFilter, *, limit: int, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Matching audit events, newest first, and how many match in all."""
    clause, params = flt.clause()
    rows = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel, details,"
        f" {HASH_HEX_SQL}"
        f" FROM audit_log WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    if len(rows) == limit or offset:
        total = int(
            conn.execute(f"SELECT count(*) FROM audit_log WHERE {clause}", params).fetchone()[0]
        )
    else:
        total = len(rows)
    return [audit_json(row) for row in rows], total
