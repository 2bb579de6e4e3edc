"""The audit log's JSON and hashes: the reused encoders give exactly what json.dumps gives."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custsync_cli.store.audit import (
    GENESIS_HASH,
    AuditEvent,
    append_encoded,
    append_events,
    canonical_details,
    canonical_json,
    event_hash,
    verify_chain,
)
from custsync_cli.store.database import open_store

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
details = st.dictionaries(st.text(), json_values, max_size=5)


def reference_canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def reference_hash(prev: str, *fields: Any) -> str:
    body = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def reference_digest(prev: bytes, *fields: Any) -> bytes:
    body = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(prev + body.encode("utf-8")).digest()


@settings(max_examples=300)
@given(json_values)
def test_canonical_json_is_json_dumps_with_sorted_keys(value: Any) -> None:
    assert canonical_json(value) == reference_canonical(value)


@settings(max_examples=300)
@given(details)
def test_canonical_details_is_json_dumps_with_sorted_keys(value: dict[str, Any]) -> None:
    assert canonical_details(value) == reference_canonical(value)


def test_a_failed_encoding_leaves_the_encoder_usable() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        canonical_details(loop)
    with pytest.raises(TypeError):
        canonical_details({"x": object()})
    shared = ["a"]
    assert canonical_details({"a": shared, "b": shared}) == '{"a":["a"],"b":["a"]}'


@settings(max_examples=300)
@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    event_id=st.integers(min_value=1),
    at=st.text(),
    actor=st.text(),
    action=st.text(),
    operation_id=st.none() | st.integers(),
    customer_account=st.none() | st.text(),
    channel=st.none() | st.text(),
    details_json=st.text(),
)
def test_event_hash_is_sha256_of_the_compact_json_list(
    prev: str,
    event_id: int,
    at: str,
    actor: str,
    action: str,
    operation_id: int | None,
    customer_account: str | None,
    channel: str | None,
    details_json: str,
) -> None:
    fields = (event_id, at, actor, action, operation_id, customer_account, channel, details_json)
    assert event_hash(prev, *fields) == reference_hash(prev, *fields)


def test_event_hash_of_known_events_never_changes() -> None:
    # Stores written by earlier versions must keep verifying: these are their hashes.
    pulled = canonical_details(
        {
            "replication_counter": 1,
            "operation": "create_customer",
            "fields": ["email", "first_name"],
            "status": "pending",
        }
    )
    assert (
        event_hash(
            GENESIS_HASH,
            1,
            "2026-11-27T01:02:03.456789Z",
            "bench",
            "pulled",
            1,
            None,
            "web-se",
            pulled,
        )
        == "30206a2c31db8010e0bd64d87c370db95ab3593aad53a080346db260c13d616f"
    )
    odd = canonical_details({"customer_account": "C00000001", "n": 1.5, "z": [None, True, "é\n"]})
    assert (
        event_hash(
            "ab" * 32,
            2,
            "2026-11-27T01:02:03.456789Z",
            'tö "x"',
            "distributed",
            7,
            "C00000001",
            "store-001",
            odd,
        )
        == "3f7218d526a0c7f8121f87d2d739211d89a728e43ed9d39e431ecbe61ce25913"
    )


events_strategy = st.lists(
    st.builds(
        AuditEvent,
        action=st.sampled_from(["pulled", "synced", "distributed", "note"]),
        actor=st.text(max_size=8),
        at=st.text(max_size=30),
        operation_id=st.none() | st.integers(min_value=1, max_value=10**6),
        customer_account=st.none() | st.text(max_size=10),
        channel=st.none() | st.text(max_size=10),
        details=details,
    ),
    max_size=6,
)


def _log(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute("SELECT * FROM audit_log ORDER BY id")]


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(events_strategy, min_size=1, max_size=3))
def test_append_encoded_writes_what_append_events_writes(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[AuditEvent]]
) -> None:
    folder = tmp_path_factory.mktemp("audit")
    with (
        open_store(folder / "a.db", create=True) as a,
        open_store(folder / "b.db", create=True) as b,
    ):
        for batch in batches:
            with a.transaction() as conn:
                head_a = append_events(conn, batch)
            with b.transaction() as conn:
                head_b = append_encoded(
                    conn,
                    [
                        (
                            e.at,
                            e.actor,
                            e.action,
                            e.operation_id,
                            e.customer_account,
                            e.channel,
                            canonical_details(e.details),
                        )
                        for e in batch
                    ],
                )
            assert head_a == head_b
        assert _log(a.conn) == _log(b.conn)
        expected_prev = bytes(32)
        for row in _log(a.conn):
            assert row[8] == reference_digest(expected_prev, *row[:8])
            expected_prev = row[8]
        assert verify_chain(a.conn).ok


def test_append_encoded_accepts_a_generator(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db", create=True) as store, store.transaction() as conn:
        head = append_encoded(
            conn, ((f"t{i}", "me", "note", None, None, None, "{}") for i in range(3))
        )
        assert head[0] == 3
        assert verify_chain(conn).ok
