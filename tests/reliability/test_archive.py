"""custsync archive: a round trip through the installed command, dry runs, kill -9, retention."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from custsync_cli.devtools.soak import custsync_executable

pytestmark = pytest.mark.slow

EVERYTHING = "2100-01-01"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTSYNC_")}
    env.update(NO_COLOR="1", COLUMNS="200", **extra)
    return env


def _run(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [custsync_executable(), *args],
        cwd=root,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def finished_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store whose every operation is finished: failed and blocked ones discarded."""
    root = tmp_path_factory.mktemp("archive") / "demo"
    assert _run(root.parent, "demo", "--dir", str(root)).returncode == 0
    for _ in range(3):
        _run(root, "discard", "--status", "failed", "--status", "blocked", "--reason", "x", "--yes")
    return root


@pytest.fixture
def demo(finished_demo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(finished_demo, root)
    return root


def _count(store: Path, sql: str) -> int:
    conn = sqlite3.connect(store)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _dump(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _archives(root: Path) -> list[Path]:
    folder = root / "archive"
    return sorted(folder.iterdir()) if folder.exists() else []


def _add_outbox_row(root: Path) -> None:
    """One new create in a channel, as a channel would append it."""
    channel = sorted((root / "channels").glob("*.db"))[0]
    conn = sqlite3.connect(channel)
    with conn:
        conn.execute(
            "INSERT INTO async_customer_operation (async_account, operation, fields, created_at)"
            " VALUES ('new-guid-1', 'create_customer', ?, '2026-11-30T10:00:00Z')",
            (json.dumps({"type": "person", "first_name": "Ada", "last_name": "Berg"}),),
        )
    conn.close()


def test_archive_round_trip(demo: Path) -> None:
    store = demo / "custsync.db"
    operations = _count(store, "SELECT count(*) FROM operations")
    events = _count(store, "SELECT count(*) FROM audit_log")
    done = _run(demo, "archive", "--before", EVERYTHING, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["operations"] == operations and report["events"] == events
    [archive] = _archives(demo)
    assert archive.name.startswith("custsync-") and archive.suffix == ".db"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert _count(store, "SELECT count(*) FROM operations") == 0
    assert _count(store, "SELECT count(*) FROM audit_log") == 0
    assert _count(archive, "SELECT count(*) FROM operations") == operations
    assert _count(archive, "SELECT count(*) FROM audit_log") == events

    verified = _run(demo, "audit", "verify", "--archives")
    assert verified.returncode == 0, verified.stdout
    assert f"archive archive/{archive.name}: ok ({events} events)" in verified.stdout

    shown = _run(demo, "show", "5", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == 5
    assert f"operation 5 is archived in archive/{archive.name}" in shown.stderr
    history = _run(demo, "audit", "--op", "5", "--format", "json")
    assert history.returncode == 0 and json.loads(history.stdout)[-1]["action"] == "pulled"

    # The chain goes on from the archive's end: new events verify, and so do the joins.
    _add_outbox_row(demo)
    assert _run(demo, "run-jobs").returncode == 0
    assert _count(store, "SELECT min(id) FROM audit_log") == events + 1
    again = _run(demo, "audit", "verify", "--archives")
    assert again.returncode == 0, again.stdout
    # The new operation and the archived history archive into a second file that joins.
    assert _run(demo, "archive", "--before", EVERYTHING).returncode == 0
    assert len(_archives(demo)) == 2
    assert _run(demo, "audit", "verify", "--archives").returncode == 0


def test_a_missing_or_changed_archive_is_named(demo: Path) -> None:
    assert _run(demo, "archive", "--before", EVERYTHING).returncode == 0
    [archive] = _archives(demo)
    moved = demo / "elsewhere.db"
    archive.rename(moved)
    shown = _run(demo, "show", "5")
    assert shown.returncode == 3
    assert shown.stderr.strip() == (
        f"custsync: error: operation 5 is archived in archive/{archive.name},"
        " but that file is missing"
    )
    assert "Traceback" not in shown.stderr
    missing = _run(demo, "audit", "verify", "--archives")
    assert missing.returncode == 1 and "the file is missing" in missing.stdout
    assert _run(demo, "audit", "verify").returncode == 0
    moved.rename(archive)
    with archive.open("r+b") as file:
        file.seek(archive.stat().st_size - 10)
        file.write(b"x")
    changed = _run(demo, "audit", "verify", "--archives")
    assert changed.returncode == 1 and "SHA-256 differs" in changed.stdout


def test_a_dry_run_changes_nothing(demo: Path) -> None:
    store = demo / "custsync.db"
    before = _dump(store)
    dry = _run(demo, "archive", "--before", EVERYTHING, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.startswith("would archive ")
    assert _dump(store) == before
    assert _archives(demo) == []


def test_a_waiting_operation_holds_the_cut(demo: Path) -> None:
    """Nothing from the first waiting operation on is archived: the chain stays one chain."""
    store = demo / "custsync.db"
    _add_outbox_row(demo)
    conn = sqlite3.connect(demo / "channels" / sorted(os.listdir(demo / "channels"))[0])
    with conn:
        conn.execute(
            "INSERT INTO async_customer_operation (async_account, operation, fields, created_at)"
            " VALUES ('new-guid-2', 'create_customer', '{\"type\": \"person\"}',"
            " '2026-11-30T10:00:00Z')"
        )
    conn.close()
    assert _run(demo, "run-jobs").returncode == 0
    failed = _count(store, "SELECT min(id) FROM operations WHERE status = 'failed'")
    held_from = _count(store, f"SELECT min(id) FROM audit_log WHERE operation_id = {failed}")
    archived = _run(demo, "archive", "--before", EVERYTHING)
    assert archived.returncode == 0
    said = archived.stdout + archived.stderr
    assert f"operation {failed} keeps the history from it on in the store" in said
    assert f"custsync show {failed}" in said
    # The create pulled just before it synced after it: its events straddle the cut, so it
    # stays too, and the store keeps exactly the two new operations and their events.
    assert _count(store, "SELECT min(id) FROM audit_log") == held_from - 1
    assert _count(store, "SELECT count(*) FROM operations") == 2
    assert _count(store, f"SELECT count(*) FROM operations WHERE id = {failed}") == 1
    assert _run(demo, "audit", "verify", "--archives").returncode == 0


@pytest.mark.parametrize(
    "point",
    [f"archive.{at}" for at in ("before_write", "after_write", "before_commit", "after_commit")],
)
def test_a_hard_exit_at_each_point_loses_nothing(demo: Path, point: str) -> None:
    store = demo / "custsync.db"
    operations = _count(store, "SELECT count(*) FROM operations")
    crashed = _run(demo, "archive", "--before", EVERYTHING, CUSTSYNC_FAULT=f"{point}:1")
    assert crashed.returncode == 99
    _check_one_place(demo, operations, committed=point == "archive.after_commit")
    rerun = _run(demo, "archive", "--before", EVERYTHING)
    assert rerun.returncode == 0, rerun.stderr
    _check_one_place(demo, operations, committed=True)


def test_kill_9_while_the_archive_waits_to_commit(demo: Path, tmp_path: Path) -> None:
    store = demo / "custsync.db"
    operations = _count(store, "SELECT count(*) FROM operations")
    never = tmp_path / "never-created"
    process = subprocess.Popen(
        [custsync_executable(), "archive", "--before", EVERYTHING],
        cwd=demo,
        env=_env(CUSTSYNC_PAUSE=f"archive.before_commit:{never}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The archive file is renamed into place before the pause point: wait for it.
        deadline = time.monotonic() + 60
        while not [p for p in _archives(demo) if p.suffix == ".db"]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the archive file never appeared"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == -signal.SIGKILL
    _check_one_place(demo, operations, committed=False)
    rerun = _run(demo, "archive", "--before", EVERYTHING)
    assert rerun.returncode == 0, rerun.stderr
    assert "left by an archive run that did not finish" in rerun.stderr
    _check_one_place(demo, operations, committed=True)


def _check_one_place(root: Path, operations: int, *, committed: bool) -> None:
    """Every operation is in the store or in a recorded archive, never in both or neither."""
    store = root / "custsync.db"
    recorded = _count(store, "SELECT count(*) FROM archives")
    in_store = _count(store, "SELECT count(*) FROM operations")
    assert recorded == (1 if committed else 0)
    if committed:
        [archive] = [p for p in _archives(root) if p.suffix == ".db"]
        assert in_store + _count(archive, "SELECT count(*) FROM operations") == operations
        assert in_store == 0
    else:
        assert in_store == operations
    verified = _run(root, "audit", "verify", "--archives")
    assert verified.returncode == 0, verified.stdout


@pytest.mark.parametrize(
    ("retention", "problem"),
    [
        ("{archive_after: soon}", "'retention.archive_after': 'soon' is not a duration"),
        ("{archive_after: 90d, folder: custsync.db}", "'retention.folder'"),
        ("{keep: 90d}", "unknown key 'retention.keep'"),
    ],
)
def test_bad_retention_config_is_a_usage_error(demo: Path, retention: str, problem: str) -> None:
    config = demo / "custsync.yaml"
    config.write_text(config.read_text() + f"\nretention: {retention}\n")
    before = _dump(demo / "custsync.db")
    result = _run(demo, "run-jobs")
    assert result.returncode == 2
    assert problem in result.stderr and "Traceback" not in result.stderr
    assert _dump(demo / "custsync.db") == before


def test_run_jobs_applies_retention_once_a_day(demo: Path) -> None:
    config = demo / "custsync.yaml"
    config.write_text(config.read_text() + "\nretention: {archive_after: 0s, folder: old/}\n")
    first = _run(demo, "run-jobs", "--format", "json")
    assert first.returncode == 0, first.stderr
    archived = json.loads(first.stdout)["archive"]
    assert archived["operations"] > 0 and Path(archived["file"]).parent.name == "old"
    _add_outbox_row(demo)
    second = _run(demo, "run-jobs", "--format", "json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["archive"] is None
    store = demo / "custsync.db"
    assert _count(store, "SELECT count(*) FROM operations") == 1
    assert _count(store, "SELECT count(*) FROM retention_runs") == 1
    assert len(list((demo / "old").iterdir())) == 1
