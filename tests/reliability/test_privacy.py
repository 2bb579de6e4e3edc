"""Customer data stays private: files 0600 under any umask, messages free of customer values."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from custsync_cli.devtools.soak import copy_workload, custsync_executable, job_env
from tests.reliability.support import Scenario

pytestmark = pytest.mark.slow


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask_022() -> None:
    os.umask(0o022)


def test_store_wal_shm_lock_and_backup_are_0600_under_umask_022(
    crash_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    loop = subprocess.Popen(
        [custsync_executable(), "run-jobs", "--loop", "--interval", "3600", "-q"],
        cwd=tmp_path,
        env=job_env(copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_umask_022,
    )
    processes.append(loop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
            done = conn.execute(
                "SELECT count(*) FROM job_runs WHERE job = 'distribute' AND outcome = 'ok'"
            ).fetchone()[0]
            conn.close()
        except sqlite3.Error:
            done = 0
        if done:
            break
        time.sleep(0.05)
    # The loop holds the store open while it sleeps: -wal and -shm exist now.
    files = [store, Path(f"{store}-wal"), Path(f"{store}-shm"), Path(f"{store}.lock")]
    backup = subprocess.run(
        [custsync_executable(), "backup", str(tmp_path / "copy.db")],
        cwd=tmp_path,
        env=job_env(copy),
        capture_output=True,
        text=True,
        preexec_fn=_umask_022,
        check=False,
    )
    assert backup.returncode == 0, backup.stderr
    for path in [*files, tmp_path / "copy.db"]:
        assert path.exists(), path
        assert _mode(path) == 0o600, f"{path.name} is {oct(_mode(path))}"
    loop.send_signal(signal.SIGTERM)
    _, stderr = loop.communicate(timeout=10)
    assert (loop.returncode, stderr) == (0, "stopped\n")  # a loop's ordinary stop


def _customer_values(channel: Path) -> set[str]:
    conn = sqlite3.connect(channel)
    values: set[str] = set()
    for (fields,) in conn.execute("SELECT fields FROM async_customer_operation"):
        try:
            parsed = json.loads(fields)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            values.update(
                str(v)
                for k, v in parsed.items()
                if k in ("last_name", "email", "phone", "street", "zip_code") and v
            )
    conn.close()
    return values


def test_run_jobs_messages_name_operations_never_customer_values(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    hostile = copy.channels[-1].database
    conn = sqlite3.connect(hostile)
    conn.execute("CREATE VIEW leak AS SELECT fields FROM async_customer_operation")
    conn.commit()
    conn.close()
    values = set()
    for channel in copy.channels:
        values |= _customer_values(channel.database)
    assert len(values) > 100
    outputs = []
    for args in (["-v"], ["--format", "json"], ["--strict"], []):
        result = subprocess.run(
            [custsync_executable(), "run-jobs", *args],
            cwd=tmp_path,
            env=job_env(copy),
            capture_output=True,
            text=True,
            check=False,
        )
        # The hostile channel is skipped: a partial run, which --strict turns into exit 1.
        assert result.returncode == (1 if "--strict" in args else 0), result.stderr
        outputs.append(result.stdout + result.stderr)
    text = "\n".join(outputs)
    assert "skipped" in text
    leaked = sorted(v for v in values if v in text)
    assert leaked == []
