"""The audit log cannot be changed silently: triggers refuse it, the hash chain detects it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from custsync_cli.config import load_config
from custsync_cli.jobs.context import JobContext
from custsync_cli.jobs.runner import JOB_ORDER, run_jobs
from custsync_cli.soak import make_workload
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.database import open_store
from tests.helpers import Result

Invoke = Callable[..., Result]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store whose audit log holds a few hundred events from two job runs."""
    workload = make_workload(tmp_path, seed=11, operations=60, channels=2, batch_size=10)
    config = load_config(workload.config_path)
    for _ in range(2):
        with open_store(config.store, create=True) as opened:
            ctx = JobContext(config=config, store=opened, actor="tester")
            run_jobs(ctx, list(JOB_ORDER), list(config.channels))
    return config.store


def _tamper(store: Path, *statements: str) -> sqlite3.Connection:
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    for statement in statements:
        conn.execute(statement)
    return conn


def _count(store: Path) -> int:
    conn = sqlite3.connect(store)
    try:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        conn.close()


def test_an_untouched_chain_verifies(store: Path) -> None:
    conn = sqlite3.connect(store)
    result = verify_chain(conn)
    assert result.ok and result.events == _count(store) > 100


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'mallory' WHERE id = 5",
        "DELETE FROM audit_log WHERE id = 5",
        "DELETE FROM audit_log",
    ],
)
def test_the_store_refuses_update_and_delete_of_audit_events(store: Path, statement: str) -> None:
    conn = sqlite3.connect(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    conn.close()
    assert verify_chain(sqlite3.connect(store)).ok


def test_an_edited_event_is_named(store: Path) -> None:
    conn = _tamper(store, 'UPDATE audit_log SET details = \'{"status":"synced"}\' WHERE id = 40')
    result = verify_chain(conn)
    assert not result.ok
    assert result.bad_event_id == 40
    assert "event 40 was changed" in (result.problem or "")


def _rehash(conn: sqlite3.Connection, event_id: int) -> None:
    """Recompute one event's own hash after it was edited, as a careful attacker would."""
    from custsync_cli.store.audit import event_hash

    row = conn.execute(
        "SELECT prev_hash, id, at, actor, action, operation_id, customer_account, channel,"
        " details FROM audit_log WHERE id = ?",
        (event_id,),
    ).fetchone()
    conn.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (event_hash(*row), event_id))


def _anchored(conn: sqlite3.Connection) -> set[int]:
    return {int(r[0]) for r in conn.execute("SELECT head_id FROM audit_anchors")}


def test_an_edit_with_a_recomputed_hash_breaks_the_link_to_the_next_event(store: Path) -> None:
    conn = _tamper(store)
    event_id = min(set(range(40, 100)) - _anchored(conn))
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = ?", (event_id,))
    _rehash(conn, event_id)
    result = verify_chain(conn)
    assert not result.ok
    assert result.bad_event_id == event_id + 1
    assert "does not follow" in (result.problem or "")


def test_an_anchored_head_rewritten_with_its_hash_is_named_by_the_anchor(store: Path) -> None:
    conn = _tamper(store)
    event_id = min(_anchored(conn))
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = ?", (event_id,))
    _rehash(conn, event_id)
    result = verify_chain(conn)
    assert (result.ok, result.bad_event_id) == (False, event_id)
    assert "differs from what anchor" in (result.problem or "")


def test_a_removed_event_in_the_middle_is_named(store: Path) -> None:
    conn = _tamper(store, "DELETE FROM audit_log WHERE id = 17")
    result = verify_chain(conn)
    assert (result.ok, result.bad_event_id) == (False, 17)
    assert "event 17 is missing" in (result.problem or "")


def test_removing_the_last_events_is_detected_through_the_job_runs(store: Path) -> None:
    total = _count(store)
    conn = _tamper(store, f"DELETE FROM audit_log WHERE id > {total - 3}")
    result = verify_chain(conn)
    assert not result.ok
    assert result.bad_event_id == total - 2
    assert "removed from the end" in (result.problem or "")


def test_reordered_events_are_named(store: Path) -> None:
    conn = _tamper(store)
    columns = "at, actor, action, operation_id, customer_account, channel, details, prev_hash, hash"
    first = conn.execute(f"SELECT {columns} FROM audit_log WHERE id = 30").fetchone()
    second = conn.execute(f"SELECT {columns} FROM audit_log WHERE id = 31").fetchone()
    assignments = ", ".join(f"{name.strip()} = ?" for name in columns.split(","))
    conn.execute(f"UPDATE audit_log SET {assignments} WHERE id = 30", second)
    conn.execute(f"UPDATE audit_log SET {assignments} WHERE id = 31", first)
    result = verify_chain(conn)
    assert (result.ok, result.bad_event_id) == (False, 30)


def test_audit_verify_command_says_where_the_chain_breaks(
    store: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTSYNC_CONFIG", str(store.parent / "custsync.yaml"))
    ok = cli("audit", "verify")
    assert ok.exit_code == 0, ok.stderr
    assert f"{_count(store)} events" in ok.stdout

    _tamper(store, "UPDATE audit_log SET actor = 'mallory' WHERE id = 12").close()
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert "event 12" in broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr
    as_json = cli("audit", "verify", "--format", "json")
    assert as_json.exit_code == 1
    assert as_json.json()["bad_event_id"] == 12
