"""The WAL is emptied after every run, so the store file alone holds every commit."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from custsync_cli.devtools.soak import copy_workload, outbox_rows, run_to_end, start_run
from tests.reliability.support import Scenario

pytestmark = pytest.mark.slow

OUTBOX_SQL = (
    "INSERT INTO async_customer_operation (async_account, operation, fields, created_at,"
    " created_by) VALUES (?, ?, ?, ?, ?)"
)


def _counts(store: Path) -> tuple[int, int]:
    """Operations and distributed operations in ``store`` read without its -wal file."""
    conn = sqlite3.connect(f"file:{store}?mode=ro&immutable=1", uri=True)
    try:
        row = conn.execute("SELECT count(*), count(distributed_at) FROM operations").fetchone()
        return int(row[0]), int(row[1])
    finally:
        conn.close()


def test_a_run_empties_the_wal_while_a_reader_keeps_the_store_open(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path / "w")
    store = copy.root / "custsync.db"
    assert run_to_end(copy)[0] == 0
    rng = random.Random(17)
    for channel in copy.channels:
        conn = sqlite3.connect(channel.database)
        with conn:
            conn.executemany(OUTBOX_SQL, outbox_rows(rng, f"{channel.name}w", 40))
        conn.close()
    # A dashboard keeps the store open, so the run's connection is not the last to close.
    watcher = sqlite3.connect(store)
    try:
        expected = 150 + 40 * len(copy.channels)
        assert watcher.execute("SELECT count(*) FROM operations").fetchone()[0] == 150

        code, stderr = run_to_end(copy)

        assert code == 0, stderr
        assert watcher.execute("SELECT count(*) FROM operations").fetchone()[0] == expected
        assert Path(f"{store}-wal").stat().st_size == 0
        shutil.copyfile(store, tmp_path / "plain-copy.db")
        assert _counts(tmp_path / "plain-copy.db")[0] == expected
    finally:
        watcher.close()


def test_a_loop_empties_the_wal_after_each_round(
    crash_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path / "w")
    store = copy.root / "custsync.db"
    loop = start_run(copy, "--loop", "--interval", "600", "--format", "json")
    processes.append(loop)
    assert loop.stdout is not None
    # The report is printed after the round ended; the loop then sleeps, writing nothing.
    report = json.loads(loop.stdout.readline())
    assert report["pulled"] == 150

    assert Path(f"{store}-wal").stat().st_size == 0
    shutil.copyfile(store, tmp_path / "plain-copy.db")
    assert _counts(tmp_path / "plain-copy.db") == (150, report["distributed"])
    loop.terminate()
    _, stderr = loop.communicate(timeout=60)
    assert (loop.returncode, stderr) == (0, "stopped\n")
