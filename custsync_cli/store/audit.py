"""The append-only, hash-chained audit log: append events in a transaction, verify the chain."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass
class AuditEvent:
    """One audit event before it is chained and written."""

    action: str
    actor: str
    at: str
    operation_id: int | None = None
    customer_account: str | None = None
    channel: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# (at, actor, action, operation_id, customer_account, channel, details_json)
EncodedEvent = tuple[str, str, str, int | None, str | None, str | None, str]

# Built once: json.dumps with non-default options would build a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: what ``json.dumps`` gives with those options."""
    return _CANONICAL.encode(value)


def canonical_details(details: dict[str, Any]) -> str:
    return canonical_json(details)


def event_hash(
    prev_hash: str,
    event_id: int,
    at: str,
    actor: str,
    action: str,
    operation_id: int | None,
    customer_account: str | None,
    channel: str | None,
    details_json: str,
) -> str:
    """SHA-256 over the previous hash and a canonical JSON form of the event."""
    body = _COMPACT.encode(
        [event_id, at, actor, action, operation_id, customer_account, channel, details_json]
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def chain_head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return 0, GENESIS_HASH
    return int(row[0]), str(row[1])


def append_events(conn: sqlite3.Connection, events: list[AuditEvent]) -> tuple[int, str]:
    """Chain and insert ``events``; call inside the transaction that makes the changes."""
    return append_encoded(
        conn,
        [
            (
                event.at,
                event.actor,
                event.action,
                event.operation_id,
                event.customer_account,
                event.channel,
                canonical_details(event.details),
            )
            for event in events
        ],
    )


def append_encoded(conn: sqlite3.Connection, events: Iterable[EncodedEvent]) -> tuple[int, str]:
    """``append_events`` for events whose details are already ``canonical_details`` text."""
    last_id, prev = chain_head(conn)
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for at, actor, action, operation_id, customer_account, channel, details_json in events:
        last_id += 1
        digest = event_hash(
            prev, last_id, at, actor, action, operation_id, customer_account, channel, details_json
        )
        append(
            (
                last_id,
                at,
                actor,
                action,
                operation_id,
                customer_account,
                channel,
                details_json,
                prev,
                digest,
            )
        )
        prev = digest
    conn.executemany(
        "INSERT INTO audit_log (id, at, actor, action, operation_id, customer_account, channel,"
        " details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return last_id, prev


@dataclass
class VerifyResult:
    ok: bool
    events: int
    problem: str | None = None
    bad_event_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "problem": self.problem,
            "bad_event_id": self.bad_event_id,
        }


def verify_chain(conn: sqlite3.Connection) -> VerifyResult:
    """Recompute the chain; name the first event that was edited, removed or reordered."""
    prev = GENESIS_HASH
    expected_id = 1
    count = 0
    cursor = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel, details,"
        " prev_hash, hash FROM audit_log ORDER BY id"
    )
    for row in cursor:
        event_id = int(row[0])
        if event_id != expected_id:
            return VerifyResult(
                False, count, f"event {expected_id} is missing (next is {event_id})", expected_id
            )
        if row[8] != prev:
            return VerifyResult(
                False, count, f"event {event_id} does not follow the event before it", event_id
            )
        digest = event_hash(prev, event_id, *row[1:8])
        if digest != row[9]:
            return VerifyResult(False, count, f"event {event_id} was changed", event_id)
        prev = digest
        expected_id += 1
        count += 1
    for run_id, head_id, head_hash in conn.execute(
        "SELECT id, audit_head_id, audit_head_hash FROM job_runs"
        " WHERE audit_head_id IS NOT NULL ORDER BY id"
    ):
        if head_id > count:
            return VerifyResult(
                False,
                count,
                f"job run {run_id} recorded event {head_id}, but the log ends at {count}:"
                " events were removed from the end",
                count + 1,
            )
        recorded = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (head_id,)).fetchone()
        if recorded is None or recorded[0] != head_hash:
            return VerifyResult(
                False,
                count,
                f"event {head_id} differs from what job run {run_id} recorded",
                head_id,
            )
    return VerifyResult(True, count)
