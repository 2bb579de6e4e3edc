"""The audit log cannot be changed silently: triggers refuse it, the hash chain detects it."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.devtools.soak import make_workload
from custsync_cli.domain.runs import JOB_ORDER
from custsync_cli.jobs.runner import run_jobs
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.database import open_store
from custsync_cli.store.migrations import m003_audit_anchors
from custsync_cli.store.replay import verify_trail
from tests.cli.conftest import Shop, build_shop
from tests.helpers import Result, Workspace
from tests.reliability.legacy_audit import as_written_before_m006

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
    from custsync_cli.store.audit import event_digest

    prev = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (event_id - 1,)).fetchone()[0]
    row = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel,"
        " details FROM audit_log WHERE id = ?",
        (event_id,),
    ).fetchone()
    digest = event_digest(prev, *row)
    conn.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (digest, event_id))


def _anchored(conn: sqlite3.Connection) -> set[int]:
    return {int(r[0]) for r in conn.execute("SELECT head_id FROM audit_anchors")}


def test_an_edit_with_a_recomputed_hash_breaks_the_link_to_the_next_event(store: Path) -> None:
    conn = _tamper(store)
    event_id = min(set(range(40, 100)) - _anchored(conn))
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = ?", (event_id,))
    _rehash(conn, event_id)
    result = verify_chain(conn)
    assert not result.ok
    # The next event was chained to the hash the edit replaced.
    assert result.bad_event_id == event_id + 1
    assert f"event {event_id + 1} was changed" in (result.problem or "")


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
    columns = "at, actor, action, operation_id, customer_account, channel, details, hash"
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


# Tampering through the installed command, on a shop whose store an attacker edits with sqlite3.


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return build_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture
def shop(built: Shop, tmp_path: Path) -> Shop:
    """A fresh copy of the shop for each test to tamper with."""
    root = tmp_path / "shop"
    shutil.copytree(built.workspace.root, root)
    return Shop(Workspace(root), ids=dict(built.ids))


def _attacker(shop: Shop) -> sqlite3.Connection:
    return _attacker_conn(shop.workspace.store_path)


def _verify(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    return shop.workspace.run("audit", "verify", *args)


@pytest.mark.parametrize(
    "command",
    [
        ("edit", "{bob}", "--set", "email=bob@example.se", "--reason", "typo"),
        ("discard", "{ghost}", "--reason", "never existed", "--yes"),
    ],
)
def test_operator_events_cut_off_after_the_last_run_are_detected(
    shop: Shop, command: tuple[str, ...]
) -> None:
    ids = {"bob": shop.ids["bob_create"], "ghost": shop.ids["ghost_update"]}
    done = shop.workspace.run(*(part.format(**ids) for part in command))
    assert done.returncode == 0, done.stderr
    with _attacker(shop) as conn:
        last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        assert conn.execute("SELECT action FROM audit_log WHERE id = ?", (last,)).fetchone()[0] in (
            "edited",
            "discarded",
        )
        conn.execute("DELETE FROM audit_log WHERE id = ?", (last,))
    broken = _verify(shop)
    assert broken.returncode == 1
    assert f"recorded event {last}, but the log ends at {last - 1}" in broken.stdout
    # The next run appends onto the shortened chain; the anchor still tells.
    rerun = shop.workspace.run("run-jobs")
    assert rerun.returncode == 0, rerun.stderr
    still = _verify(shop, "--format", "json")
    assert still.returncode == 1
    assert json.loads(still.stdout)["ok"] is False


def test_an_external_head_catches_a_rollback_the_store_cannot_see(
    shop: Shop, tmp_path: Path
) -> None:
    ws = shop.workspace
    first = ws.run("audit", "head")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"\d+:[0-9a-f]{64}\n", first.stdout)
    old_copy = tmp_path / "old.db"
    assert ws.run("backup", str(old_copy)).returncode == 0

    gone = ws.run("discard", str(shop.ids["ghost_update"]), "--reason", "gone", "--yes")
    assert gone.returncode == 0
    assert ws.run("run-jobs").returncode == 0
    second = json.loads(ws.run("audit", "head", "--format", "json").stdout)
    assert second["events"] > int(first.stdout.split(":")[0])
    for head in (first.stdout.strip(), second["head"]):
        ok = _verify(shop, "--expect", head)
        assert ok.returncode == 0, ok.stdout + ok.stderr

    # Put the old store back, as someone rolling back to a backup would.
    for suffix in ("-wal", "-shm"):
        Path(f"{ws.store_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(old_copy, ws.store_path)
    assert _verify(shop).returncode == 0  # consistent in itself: only a witness can tell
    cut = _verify(shop, "--expect", second["head"])
    assert cut.returncode == 1
    assert f"the expected head recorded event {second['events']}" in cut.stdout
    assert "removed from the end" in cut.stdout

    # The same count with another hash: the chain was rewritten below the head.
    count = int(first.stdout.split(":")[0])
    forged = _verify(shop, "--expect", f"{count}:{'0' * 64}")
    assert forged.returncode == 1
    assert f"event {count} differs from what the expected head recorded" in forged.stdout


def _customer(shop: Shop, async_account: str) -> str:
    with shop.store() as conn:
        return str(
            conn.execute(
                "SELECT account FROM customers WHERE async_account = ?", (async_account,)
            ).fetchone()[0]
        )


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (
            ["UPDATE operations SET status = 'synced' WHERE id = {bob}"],
            "operation {bob} is synced but its audit events say failed",
        ),
        (
            [
                "DELETE FROM operation_errors WHERE operation_id = {ghost}",
                "DELETE FROM operations WHERE id = {ghost}",
            ],
            "operation {ghost} has audit events but is missing from operations",
        ),
        (
            ["UPDATE customers SET email = 'mallory@example.com' WHERE account = '{anna}'"],
            "HQ customer {anna}: email differs from what its audit events applied",
        ),
        (
            [
                "UPDATE customers SET attributes = json_set(attributes, '$.loyalty_tier',"
                " 'bronze') WHERE account = '{anna}'"
            ],
            "HQ customer {anna}: loyalty_tier differs from what its audit events applied",
        ),
        (
            [
                "DELETE FROM addresses WHERE customer_account = '{acme}'",
                "DELETE FROM customers WHERE account = '{acme}'",
            ],
            "HQ customer {acme} (created by operation {acme_op}) is missing",
        ),
        (
            [
                "INSERT INTO customers (account, async_account, channel, first_name,"
                " attributes, created_at, updated_at) VALUES ('C99999999', 'forged-1', 'web-se',"
                " 'Mallory', '{{}}', '2026-01-01', '2026-01-01')"
            ],
            "HQ customer C99999999 was not created by any synced operation",
        ),
        (
            ["UPDATE customers SET created_by_operation = {bob} WHERE account = '{anna}'"],
            "HQ customer {anna} names operation {bob} as its create",
        ),
        (
            ["UPDATE number_sequences SET next_value = next_value - 1"],
            "would hand out account",
        ),
    ],
    ids=["status", "operation", "field", "attribute", "deleted", "forged", "creator", "sequence"],
)
def test_records_edited_behind_custsync_are_named(
    shop: Shop, statements: list[str], named: str
) -> None:
    ids = {
        "bob": shop.ids["bob_create"],
        "ghost": shop.ids["ghost_update"],
        "anna": _customer(shop, "anna-1"),
        "acme": _customer(shop, "acme-1"),
        "acme_op": shop.ids["acme_create"],
    }
    assert _verify(shop).returncode == 0
    with shop.store() as conn:
        values = [str(v) for row in conn.execute("SELECT * FROM customers") for v in row if v]
    with _attacker(shop) as conn:
        for statement in statements:
            conn.execute(statement.format(**ids))
    broken = _verify(shop)
    assert broken.returncode == 1
    assert broken.stdout.startswith("audit trail mismatch: ")
    assert named.format(**ids) in broken.stdout
    assert broken.stderr == ""
    shown = broken.stdout.replace(named.format(**ids), "")
    assert not [v for v in values if len(v) > 3 and v in shown and not v.startswith("C0")]
    assert "mallory" not in broken.stdout.lower()


def _rewrite_chain(conn: sqlite3.Connection, change: Callable[[str, dict[str, Any]], None]) -> None:
    """Rewrite every event's details and re-chain the log, its anchors and the job runs' heads."""
    from custsync_cli.store.audit import canonical_details, event_digest

    prev = bytes(32)
    rows = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel, details"
        " FROM audit_log ORDER BY id"
    ).fetchall()
    for event_id, at, actor, action, op_id, account, channel, details in rows:
        parsed = json.loads(details)
        change(action, parsed)
        text = canonical_details(parsed)
        digest = event_digest(prev, event_id, at, actor, action, op_id, account, channel, text)
        conn.execute(
            "UPDATE audit_log SET details = ?, hash = ? WHERE id = ?", (text, digest, event_id)
        )
        head = digest.hex()
        conn.execute("UPDATE audit_anchors SET head_hash = ? WHERE head_id = ?", (head, event_id))
        conn.execute(
            "UPDATE job_runs SET audit_head_hash = ? WHERE audit_head_id = ?", (head, event_id)
        )
        prev = digest


def _strip_applied(action: str, details: dict[str, Any]) -> None:
    details.pop("applied", None)


def test_synced_events_from_before_applied_values_still_verify(store: Path) -> None:
    conn = _attacker_conn(store)
    _rewrite_chain(conn, _strip_applied)
    assert verify_trail(conn).ok
    # Without applied values the fields cannot be replayed, but existence and numbers still can.
    conn.execute("UPDATE customers SET email = 'x@example.com'")
    assert verify_trail(conn).ok
    conn.execute("UPDATE number_sequences SET next_value = 1")
    result = verify_trail(conn)
    assert not result.ok and "would hand out account" in (result.problem or "")


def test_a_rewrite_of_the_whole_chain_and_its_anchors_is_not_detected(store: Path) -> None:
    """The documented limit: someone who can write the file can forge a consistent trail."""
    conn = _attacker_conn(store)
    _rewrite_chain(conn, lambda action, details: details.update(note="forged"))
    assert verify_trail(conn).ok


def test_the_migration_anchors_a_log_written_before_anchors(tmp_path: Path, store: Path) -> None:
    conn = as_written_before_m006(store)
    conn.execute("DROP TABLE audit_anchors")
    conn.execute("DROP TABLE retention_runs")
    conn.execute("DROP TABLE archives")
    conn.execute("UPDATE job_runs SET audit_head_id = NULL, audit_head_hash = NULL")
    # The later migrations are applied already; run the anchors migration on its own.
    m003_audit_anchors(conn)
    conn.close()
    with open_store(store) as opened:
        head = opened.query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")[0]
        anchors = opened.query("SELECT head_id, head_hash FROM audit_anchors")
        assert verify_trail(opened.conn).ok
    assert anchors == [{"head_id": head["id"], "head_hash": head["hash"]}]


def _attacker_conn(store: Path) -> sqlite3.Connection:
    """The store opened as an attacker with sqlite3 would, every append-only trigger dropped."""
    conn = sqlite3.connect(store, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn
