"""A sync batch decides from what it loaded up front exactly as one operation at a time would.

With a batch of one, every decision of the sync job reads the store as the previous operation
left it. With one batch for everything, the customers, email owners, account numbers and
dependants come from the batch's in-memory view instead. Both must leave the same store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.jobs.pull import pull
from custsync_cli.jobs.sync import sync
from custsync_cli.store.database import open_store
from custsync_cli.store.operations import load_operations
from tests.helpers import ChannelDB, Workspace, address, person

ACCOUNTS = [f"6f1c1d4e-0000-4000-8000-00000000000{n}" for n in range(3)]
EMAILS = ["anna@example.se", "ANNA@example.se", "erik@example.se", "bad@", None]
PHONES = ["+46 70 123 45 67", "+46 70 999 88 77", "12"]
ADDRESS_IDS = ["A1", "A2"]

# One outbox row: (kind, customer index, field choices, minutes after the start).
step = st.tuples(
    st.sampled_from(["create_customer", "update_customer", "create_address", "update_address"]),
    st.integers(0, len(ACCOUNTS) - 1),
    st.sampled_from(EMAILS),
    st.sampled_from(PHONES),
    st.sampled_from(ADDRESS_IDS),
    st.integers(0, 30),
)


def fields_for(kind: str, email: str | None, phone: str, address_id: str) -> dict[str, Any]:
    if kind == "create_customer":
        return person(email=email) if email else person(phone=phone)
    if kind == "update_customer":
        return {"email": email, "phone": phone} if email else {"phone": phone}
    if kind == "create_address":
        return address(address_id, is_primary=phone.endswith("7"))
    return {"address_id": address_id, "city": "Uppsala" if email else "Lund"}


def creates_first(rounds: list[list[Any]]) -> list[list[Any]]:
    """Move each customer's and address's first create ahead of what depends on it, then drop
    the dependants that would still wait for a later create.

    Such a dependant blocks behind a pending create and is released within the same run; it
    then syncs right after that create with a batch of one but after the rest of the batch
    otherwise, a legitimately different order that this test is not about.
    """
    stream = [(number, row) for number, steps in enumerate(rounds) for row in steps]

    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        kind, who, _, _, address_id, _ = row
        return (who,) if kind.endswith("customer") else (who, address_id)

    for create in ("create_customer", "create_address"):
        for index in range(len(stream)):
            number, row = stream[index]
            if row[0] != create:
                continue
            first = next(
                i for i, (_, other) in enumerate(stream) if key(other)[: len(key(row))] == key(row)
            )
            if first < index and not any(
                other[0] == create and key(other) == key(row) for _, other in stream[first:index]
            ):
                stream.insert(first, (stream[first][0], stream.pop(index)[1]))
    pending_creates = [key(row) for _, row in stream if row[0].startswith("create")]
    kept: list[list[Any]] = [[] for _ in rounds]
    for number, row in stream:
        if row[0].startswith("create"):
            pending_creates.remove(key(row))
        if row[0] != "create_customer" and (
            (row[1],) in pending_creates
            or (row[0] == "update_address" and key(row) in pending_creates)
        ):
            continue
        kept[number].append(row)
    return kept


def run_sync(root: Path, batch_size: int, duplicate_email: str, rounds: list[list[Any]]) -> str:
    ws = Workspace(root)
    ws.write_config(
        jobs={"batch_size": batch_size}, validation={"duplicate_email": duplicate_email}
    )
    for steps in rounds:
        if not ws.channels:
            ws.channel("web-se")
        write_channel_rows(ws.channels["web-se"], steps)
        config = load_config(ws.config_path)
        with open_store(ws.store_path, create=True) as store:
            ctx = JobContext(config=config, store=store, actor="tester")
            pull(ctx, config.channels)
            sync(ctx)
    return dump(ws.store_path)


def write_channel_rows(channel: ChannelDB, steps: list[tuple[Any, ...]]) -> None:
    for kind, who, email, phone, address_id, minute in steps:
        channel.add(
            ACCOUNTS[who],
            kind,
            fields_for(kind, email, phone, address_id),
            created_at=f"2026-11-20T09:{minute:02d}:00Z",
        )


def dump(path: Path) -> str:
    conn = sqlite3.connect(path)
    queries = [
        "SELECT id, status, customer_account, last_error, blocked_by, attempts, version"
        " FROM operations ORDER BY id",
        "SELECT id, new_values, old_values, conflicts FROM operations ORDER BY id",
        "SELECT operation_id, field, code, message FROM operation_errors"
        " ORDER BY operation_id, rowid",
        "SELECT account, async_account, type, first_name, last_name, email, phone, attributes"
        " FROM customers ORDER BY account",
        "SELECT customer_account, address_id, city, is_primary FROM addresses ORDER BY 1, 2",
        "SELECT action, operation_id, customer_account, details FROM audit_log ORDER BY id",
        "SELECT next_value FROM number_sequences",
    ]
    text = json.dumps([conn.execute(sql).fetchall() for sql in queries], indent=0)
    conn.close()
    return text


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rounds=st.lists(st.lists(step, min_size=1, max_size=14), min_size=1, max_size=2),
    duplicate_email=st.sampled_from(["fail", "warn"]),
)
def test_one_big_batch_leaves_the_same_store_as_one_operation_at_a_time(
    tmp_path_factory: Any, rounds: list[list[Any]], duplicate_email: str
) -> None:
    rounds = creates_first(rounds)
    one_by_one = run_sync(tmp_path_factory.mktemp("one"), 1, duplicate_email, rounds)
    all_at_once = run_sync(tmp_path_factory.mktemp("all"), 500, duplicate_email, rounds)
    assert all_at_once == one_by_one


def test_a_batch_larger_than_sqlites_parameter_limit_loads(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add(ACCOUNTS[0], "create_customer", person())
    config = load_config(workspace.config_path)
    with open_store(workspace.store_path, create=True) as store:
        pull(JobContext(config=config, store=store, actor="tester"), config.channels)
        loaded = load_operations(store.conn, list(range(1, 40_001)))
    assert [op.id for op in loaded] == [1]
    assert loaded[0].values["first_name"] == "Anna"
