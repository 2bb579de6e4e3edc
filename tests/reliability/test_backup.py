"""custsync backup: an online copy while jobs write, checked, private, never over a file."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from custsync_cli.devtools.invariants import check_invariants
from custsync_cli.devtools.soak import (
    copy_workload,
    custsync_executable,
    job_env,
    make_workload,
    start_run,
)
from tests.reliability.support import Scenario, wait_for_run_start

pytestmark = pytest.mark.slow


def _backup(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [custsync_executable(), "backup", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_backups_taken_while_run_jobs_writes_are_consistent_snapshots(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = make_workload(tmp_path / "live", seed=5, operations=600, channels=2, batch_size=5)
    env = job_env(copy)
    writer = start_run(copy)
    processes.append(writer)
    assert wait_for_run_start(writer, copy.root / "custsync.db")
    taken = []
    while writer.poll() is None and len(taken) < 6:
        target = tmp_path / f"backup-{len(taken)}.db"
        result = _backup(copy.root, env, str(target), "--format", "json")
        assert result.returncode == 0, result.stderr
        assert "integrity ok, audit chain ok" in result.stderr
        taken.append(target)
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr
    events = set()
    mid_run = 0
    for target in taken:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert not Path(f"{target}-wal").exists()
        assert check_invariants(target, copy.channels, complete=False, outbox=copy.outbox) == []
        conn = sqlite3.connect(target)
        events.add(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        running = conn.execute("SELECT count(*) FROM job_runs WHERE outcome = 'running'")
        mid_run += running.fetchone()[0] > 0
        conn.close()
    assert mid_run >= 1, "no backup caught the run in the middle"
    assert len(taken) == 1 or len(events) > 1, "every backup saw the same moment"


def test_backup_refuses_to_overwrite_and_to_copy_over_the_store(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    env = job_env(copy)
    assert (
        subprocess.run(
            [custsync_executable(), "run-jobs", "-q"], cwd=tmp_path, env=env, check=False
        ).returncode
        == 0
    )
    existing = tmp_path / "keep.db"
    existing.write_text("precious")
    refused = _backup(tmp_path, env, str(existing))
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert existing.read_text() == "precious"

    forced = _backup(tmp_path, env, str(existing), "--force")
    assert forced.returncode == 0, forced.stderr
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600

    store = tmp_path / "custsync.db"
    before = store.stat().st_size
    itself = _backup(tmp_path, env, str(store), "--force")
    assert itself.returncode == 2
    assert "the store itself" in itself.stderr
    assert store.stat().st_size == before
    assert check_invariants(store, copy.channels, complete=True) == []

    missing_folder = _backup(tmp_path, env, str(tmp_path / "nowhere" / "b.db"))
    assert missing_folder.returncode == 2
    assert "Traceback" not in missing_folder.stderr


def test_a_backup_of_a_tampered_store_says_the_copy_fails_its_check(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    env = job_env(copy)
    subprocess.run([custsync_executable(), "run-jobs", "-q"], cwd=tmp_path, env=env, check=True)
    conn = sqlite3.connect(tmp_path / "custsync.db")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    conn.commit()
    conn.close()
    result = _backup(tmp_path, env, str(tmp_path / "b.db"), "--format", "json")
    assert result.returncode == 1
    assert "fails its check" in result.stderr and "event 3" in result.stderr
    assert '"audit_ok": false' in result.stdout
