"""The append-only, hash-chained audit log: append and anchor events, verify the chain."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.errors import UsageError

GENESIS_HASH = "0" * 64
# What the views and listings show as an event's hash: 64 hex digits in either format.
HASH_HEX_SQL = "CASE typeof(hash) WHEN 'blob' THEN lower(hex(hash)) ELSE hash END AS hash"
# Every action the jobs and repairs record, in the order an operation usually meets them.
ACTIONS = (
    "pulled",
    "blocked",
    "released",
    "synced",
    "sync_failed",
    "warning",
    "distributed",
    "edited",
    "resync_requested",
    "discarded",
    "linked",
    "watermark_reset",
)
_HEX = frozenset("0123456789abcdef")


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


def _encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    """``JSONEncoder(sort_keys, separators=(",", ":"), ensure_ascii=False).encode``, with the C
    encoder that ``encode`` sets up on every call built once (two to three µs an event).
    """
    encoder = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    markers: dict[int, Any] = {}
    iterencode = make(
        markers,
        encoder.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        sort_keys,
        False,
        True,
    )
    join = "".join

    def encode(value: Any) -> str:
        try:
            return join(iterencode(value, 0))
        except BaseException:
            # A failed encoding leaves the containers it was in as circular-reference markers.
            markers.clear()
            raise

    return encode


_CANONICAL = _encoder(sort_keys=True)
_COMPACT = _encoder(sort_keys=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: what ``json.dumps`` gives with those options."""
    return _CANONICAL(value)


def canonical_details(details: dict[str, Any]) -> str:
    return canonical_json(details)


def event_hash(prev_hash: str, *event: Any) -> str:
    """The hash of an event written before m006: hex SHA-256 over the previous hex hash and a
    canonical JSON form of the event (id, at, actor, action, operation id, customer account,
    channel, details JSON). Such events keep their hash as 64 hex digits (text)."""
    return hashlib.sha256((prev_hash + _COMPACT(list(event))).encode("utf-8")).hexdigest()


def event_digest(prev: bytes, *event: Any) -> bytes:
    """The hash of an event since m006: SHA-256 over the previous event's 32-byte hash and the
    same canonical JSON form of the event, stored as a 32-byte blob."""
    return hashlib.sha256(prev + _COMPACT(list(event)).encode("utf-8")).digest()


def hash_hex(stored: str | bytes) -> str:
    """A stored hash (hex text before m006, a blob since) as 64 hex digits."""
    return stored.hex() if isinstance(stored, bytes) else str(stored)


def chain_head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        # Every event may have moved to archives: the chain goes on from the last one's end.
        return chain_start(conn)
    return int(row[0]), hash_hex(row[1])


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
    last_id, head = chain_head(conn)
    prev = bytes.fromhex(head)
    sha256 = hashlib.sha256
    encode = _COMPACT
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for at, actor, action, operation_id, customer_account, channel, details_json in events:
        last_id += 1
        # event_digest, inlined: this loop runs for every event the jobs write.
        body = encode(
            [last_id, at, actor, action, operation_id, customer_account, channel, details_json]
        )
        prev = sha256(prev + body.encode("utf-8")).digest()
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
            )
        )
    if not rows:
        return last_id, head
    conn.executemany(
        "INSERT INTO audit_log (id, at, actor, action, operation_id, customer_account, channel,"
        " details, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    head = prev.hex()
    anchor_head(conn, last_id, head)
    return last_id, head


def anchor_head(conn: sqlite3.Connection, head_id: int, head_hash: str) -> None:
    """Record the chain head in the transaction that appended the events up to it.

    Anchors are append-only like the log, so a later append cannot hide that events before it
    were cut off: the anchored event is then missing or has another hash.
    """
    conn.execute(
        "INSERT INTO audit_anchors (head_id, head_hash) VALUES (?, ?)", (head_id, head_hash)
    )


def format_head(head: tuple[int, str]) -> str:
    """``COUNT:HASH``, what ``audit head`` prints and ``audit verify --expect`` reads."""
    return f"{head[0]}:{head[1]}"


def parse_head(text: str) -> tuple[int, str]:
    """Read ``COUNT:HASH`` as ``format_head`` writes it; a malformed value is a usage error."""
    count, sep, digest = text.strip().partition(":")
    digest = digest.lower()
    if not sep or not count.isdigit() or len(digest) != 64 or not _HEX.issuperset(digest):
        raise UsageError(
            "--expect must be COUNT:HASH as 'custsync audit head' prints it"
            " (a number, a colon and 64 hex digits)"
        )
    return int(count), digest


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


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def chain_start(conn: sqlite3.Connection) -> tuple[int, str]:
    """(id, hash) of the event the store's chain continues from: the last archive's end
    anchor, or (0, the genesis hash) while nothing was archived."""
    if _has_table(conn, "archives"):
        row = conn.execute(
            "SELECT last_event_id, end_hash FROM archives ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
    return 0, GENESIS_HASH


def _anchors(
    conn: sqlite3.Connection, expect: tuple[int, str] | None
) -> list[tuple[int, str, str]]:
    """(event id, hash, who recorded it) for every recorded head, the expected one first."""
    anchors: list[tuple[int, str, str]] = []
    if expect is not None and expect[0] > 0:
        anchors.append((expect[0], expect[1], "the expected head"))
    if _has_table(conn, "audit_anchors"):
        anchors += [
            (int(head_id), str(head_hash), f"anchor {anchor_id}")
            for anchor_id, head_id, head_hash in conn.execute(
                "SELECT id, head_id, head_hash FROM audit_anchors ORDER BY id"
            )
        ]
    if _has_table(conn, "job_runs"):
        anchors += [
            (int(head_id), str(head_hash), f"job run {run_id}")
            for run_id, head_id, head_hash in conn.execute(
                "SELECT id, audit_head_id, audit_head_hash FROM job_runs"
                " WHERE audit_head_id IS NOT NULL ORDER BY id"
            )
        ]
    return anchors


def verify_chain(
    conn: sqlite3.Connection,
    expect: tuple[int, str] | None = None,
    start: tuple[int, str] | None = None,
) -> VerifyResult:
    """Recompute the chain; name the first event that was edited, removed or reordered.

    Every recorded head (the anchors written with each append, each job run's, and ``expect``,
    an external witness) must still be on the chain: a head beyond its end means events were
    cut off the end, a head with another hash means the chain was rewritten below it.
    The chain continues from ``start`` (event id and hash before its first event), by default
    ``chain_start``; heads recorded before it belong to an archive and are checked there.

    Events written before m006 keep their hex text hash and are checked by ``event_hash``;
    later ones have a blob and ``event_digest``. Once a blob appears, text may not follow.
    """
    start_id, start_hash = start if start is not None else chain_start(conn)
    recorded: dict[int, list[tuple[str, str]]] = {}
    for head_id, head_hash, source in _anchors(conn, expect):
        if head_id == start_id and head_id > 0 and head_hash != start_hash:
            return VerifyResult(
                False, 0, f"event {head_id} differs from what {source} recorded", head_id
            )
        if head_id > start_id:
            recorded.setdefault(head_id, []).append((head_hash, source))
    prev_hex: str | None = start_hash
    prev = bytes.fromhex(start_hash)
    expected_id = start_id + 1
    count = 0
    cursor = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel, details,"
        " hash FROM audit_log WHERE id > ? ORDER BY id",
        (start_id,),
    )
    for row in cursor:
        event_id = int(row[0])
        if event_id != expected_id:
            return VerifyResult(
                False, count, f"event {expected_id} is missing (next is {event_id})", expected_id
            )
        stored = row[8]
        if isinstance(stored, bytes):
            digest = event_digest(prev, event_id, *row[1:8])
            if digest != stored:
                return VerifyResult(False, count, f"event {event_id} was changed", event_id)
            prev, prev_hex = digest, None
        elif prev_hex is None:
            return VerifyResult(
                False, count, f"event {event_id} has the old hash format after the new", event_id
            )
        else:
            prev_hex = event_hash(prev_hex, event_id, *row[1:8])
            if prev_hex != stored:
                return VerifyResult(False, count, f"event {event_id} was changed", event_id)
            prev = bytes.fromhex(prev_hex)
        for head_hash, source in recorded.get(event_id, ()):
            if head_hash != (prev_hex or prev.hex()):
                return VerifyResult(
                    False, count, f"event {event_id} differs from what {source} recorded", event_id
                )
        expected_id += 1
        count += 1
    last_id = start_id + count
    beyond = [(head_id, source) for head_id, heads in recorded.items() for _, source in heads]
    beyond = [(head_id, source) for head_id, source in beyond if head_id > last_id]
    if beyond:
        head_id, source = max(beyond)
        return VerifyResult(
            False,
            count,
            f"{source} recorded event {head_id}, but the log ends at {last_id}:"
            " events were removed from the end",
            last_id + 1,
        )
    return VerifyResult(True, count)
