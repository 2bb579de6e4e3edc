"""Invariants a store must keep whatever killed the jobs, and a snapshot to compare runs by."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custsync_cli.channels.sqlite_outbox import USABLE_COUNTER
from custsync_cli.config import ChannelConfig
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.migrations import schema_version
from custsync_cli.store.replay import first_mismatch


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True)


def channel_counters(path: Path) -> list[int]:
    """Every usable replication counter in a channel's outbox, each once."""
    conn = _read_only(path)
    try:
        return [
            int(row[0])
            for row in conn.execute(
                "SELECT DISTINCT replication_counter FROM async_customer_operation"
                f" WHERE {USABLE_COUNTER} ORDER BY 1"
            )
        ]
    finally:
        conn.close()


def channel_customers(path: Path) -> dict[str, str | None]:
    """async account -> customer account, as the distribute job wrote them to the channel."""
    conn = _read_only(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "customer" not in tables:
            return {}
        return {
            str(r[0]): r[1]
            for r in conn.execute("SELECT async_account, customer_account FROM customer")
        }
    finally:
        conn.close()


def check_invariants(
    store_path: Path,
    channels: list[ChannelConfig],
    *,
    complete: bool,
    outbox: dict[str, list[int]] | None = None,
) -> list[str]:
    """Every broken invariant as a sentence; empty when the store is sound.

    With ``complete`` the jobs are expected to have run to the end since the last change in the
    channels: every outbox row pulled, nothing pending, every synced operation distributed, and
    each channel's ``customer`` table agreeing with HQ. Without it (right after a crash, when a
    channel may hold a hot journal) the channels are not opened: ``outbox`` gives their counters.
    """
    problems: list[str] = []
    if outbox is None:
        try:
            outbox = {c.name: channel_counters(c.database) for c in channels}
        except sqlite3.Error as exc:
            return [f"a channel cannot be read after a complete run: {exc}"]
    conn = sqlite3.connect(store_path)
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            return [f"integrity_check: {'; '.join(integrity[:5])}"]
        if schema_version(conn) == 0:
            # Killed before the first migration committed: an empty store is sound.
            return ["the store has no schema after a complete run"] if complete else []
        chain = verify_chain(conn)
        if not chain.ok:
            problems.append(f"audit chain: {chain.problem}")
        problems += _check_operations(conn, outbox, complete=complete)
        problems += _check_customers(conn, channels if complete else [])
        problems += _check_audit_trail(conn)
        mismatch = first_mismatch(conn)
        if mismatch:
            problems.append(f"audit replay: {mismatch}")
    finally:
        conn.close()
    return problems


def _check_operations(
    conn: sqlite3.Connection, outbox: dict[str, list[int]], *, complete: bool
) -> list[str]:
    problems: list[str] = []
    for channel, counter, count in conn.execute(
        "SELECT channel, replication_counter, count(*) FROM operations"
        " GROUP BY channel, replication_counter HAVING count(*) > 1"
    ):
        problems.append(f"{channel} counter {counter} is in the store {count} times")
    watermarks = dict(conn.execute("SELECT channel, replication_counter FROM channel_watermarks"))
    for name, in_channel in outbox.items():
        stored = {
            int(r[0])
            for r in conn.execute(
                "SELECT replication_counter FROM operations WHERE channel = ?", (name,)
            )
        }
        mark = int(watermarks.get(name, 0))
        expected = {c for c in in_channel if c <= mark}
        if stored != expected:
            lost = sorted(expected - stored)[:5]
            extra = sorted(stored - expected)[:5]
            problems.append(
                f"{name}: store and outbox up to watermark {mark} differ"
                f" (missing {lost}, unexpected {extra})"
            )
        if complete and in_channel and mark != in_channel[-1]:
            problems.append(f"{name}: watermark {mark}, outbox ends at {in_channel[-1]}")
    if complete:
        pending = conn.execute("SELECT count(*) FROM operations WHERE status = 'pending'")
        left = int(pending.fetchone()[0])
        if left:
            problems.append(f"{left} operation(s) still pending after a complete run")
        undistributed = conn.execute(
            "SELECT count(*) FROM operations WHERE status = 'synced' AND distributed_at IS NULL"
        ).fetchone()[0]
        if undistributed:
            problems.append(f"{undistributed} synced operation(s) never distributed")
        for op_id, waits_for, status in conn.execute(
            "SELECT o.id, o.blocked_by, b.status FROM operations o"
            " LEFT JOIN operations b ON b.id = o.blocked_by WHERE o.status = 'blocked'"
        ):
            if status not in ("failed", "blocked", "pending"):
                problems.append(f"operation {op_id} blocked behind {waits_for} ({status})")
    return problems


def _check_customers(conn: sqlite3.Connection, channels: list[ChannelConfig]) -> list[str]:
    problems: list[str] = []
    for async_account, count in conn.execute(
        "SELECT async_account, count(*) FROM customers GROUP BY 1 HAVING count(*) > 1"
    ):
        problems.append(f"async customer {async_account} has {count} HQ customers")
    rows = conn.execute("SELECT async_account, account FROM customers")
    hq = {str(r[0]): str(r[1]) for r in rows}
    synced_creates = int(
        conn.execute(
            "SELECT count(*) FROM operations WHERE operation = 'create_customer'"
            " AND status = 'synced'"
        ).fetchone()[0]
    )
    if synced_creates != len(hq):
        problems.append(f"{synced_creates} synced creates but {len(hq)} HQ customers")
    for op_id, async_account, account in conn.execute(
        "SELECT id, async_account, customer_account FROM operations WHERE status = 'synced'"
    ):
        if hq.get(async_account) != account:
            problems.append(
                f"operation {op_id} synced to {account}, HQ says {hq.get(async_account)}"
            )
    owners: dict[str, set[str]] = defaultdict(set)
    distributed = {
        (str(r[0]), str(r[1]))
        for r in conn.execute(
            "SELECT channel, async_account FROM operations WHERE distributed_at IS NOT NULL"
        )
    }
    for channel in channels:
        try:
            written = channel_customers(channel.database)
        except sqlite3.Error as exc:
            problems.append(f"{channel.name}: the customer table cannot be read: {exc}")
            continue
        for async_account, account in written.items():
            if account is not None:
                owners[account].add(async_account)
            if hq.get(async_account) != account:
                problems.append(
                    f"{channel.name}: async customer {async_account} shows {account},"
                    f" HQ has {hq.get(async_account)}"
                )
        for channel_name, async_account in distributed:
            if channel_name == channel.name and async_account not in written:
                problems.append(
                    f"{channel.name}: async customer {async_account} marked distributed"
                    " but missing from the channel"
                )
    for account, holders in owners.items():
        if len(holders) > 1:
            problems.append(f"account {account} shared by {sorted(holders)}")
    return problems


def _check_audit_trail(conn: sqlite3.Connection) -> list[str]:
    """Each operation was pulled once and distributed exactly when its row says so; the
    replay of statuses, customers and numbers is ``audit verify``'s (``first_mismatch``)."""
    problems: list[str] = []
    pulls: Counter[int] = Counter()
    distributions: Counter[int] = Counter()
    for op_id, action in conn.execute(
        "SELECT operation_id, action FROM audit_log"
        " WHERE operation_id IS NOT NULL AND action IN ('pulled', 'distributed')"
    ):
        (pulls if action == "pulled" else distributions)[op_id] += 1
    for op_id, distributed_at in conn.execute("SELECT id, distributed_at FROM operations"):
        if pulls[op_id] != 1:
            problems.append(f"operation {op_id} has {pulls[op_id]} 'pulled' events")
        if (distributed_at is not None) != (distributions[op_id] > 0):
            problems.append(f"operation {op_id}: distributed_at and 'distributed' events disagree")
    return problems


def snapshot(store_path: Path, channels: list[ChannelConfig]) -> dict[str, Any]:
    """The outcome of the jobs, keyed by (channel, counter), to compare two runs' end states."""
    conn = sqlite3.connect(store_path)
    try:
        errors: dict[int, list[str]] = defaultdict(list)
        for op_id, code in conn.execute(
            "SELECT operation_id, code FROM operation_errors ORDER BY operation_id, field, code"
        ):
            errors[int(op_id)].append(str(code))
        operations = {
            f"{r[1]}:{r[2]}": [r[3], r[4], r[5], r[6] is not None, errors.get(int(r[0]), [])]
            for r in conn.execute(
                "SELECT id, channel, replication_counter, operation, status, customer_account,"
                " distributed_at FROM operations"
            )
        }
        hq = {
            str(r[0]): str(r[1])
            for r in conn.execute("SELECT account, async_account FROM customers")
        }
    finally:
        conn.close()
    return {
        "operations": operations,
        "customers": hq,
        "channels": {c.name: channel_customers(c.database) for c in channels},
    }


def differences(expected: dict[str, Any], actual: dict[str, Any], limit: int = 5) -> list[str]:
    """Where ``actual`` differs from ``expected`` (two snapshots), at most ``limit`` lines."""
    lines: list[str] = []
    for part in ("operations", "customers", "channels"):
        want, got = expected[part], actual[part]
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                lines.append(f"{part} {key}: expected {want.get(key)}, got {got.get(key)}")
                if len(lines) >= limit:
                    return lines
    return lines
