"""Crash safety: a run killed anywhere, run again, ends as an uninterrupted run would."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from custsync_cli.devtools.invariants import check_invariants, differences, snapshot
from custsync_cli.devtools.soak import (
    FAULT_POINTS,
    copy_workload,
    fault_trial,
    kill_trial,
    start_run,
)
from tests.reliability.support import Scenario

pytestmark = pytest.mark.slow


def _outcomes(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return [row[0] for row in conn.execute("SELECT outcome FROM job_runs ORDER BY id")]
    finally:
        conn.close()


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_hard_exit_at_each_fault_point_loses_and_repeats_nothing(
    point: str, crash_scenario: Scenario, tmp_path: Path
) -> None:
    result = fault_trial(crash_scenario.workload, crash_scenario.reference, tmp_path, point, 2)

    assert result.exit_codes[0] == 99, f"fault point {point} was not reached twice"
    assert result.violations == []
    assert result.exit_codes[-1] == 0
    assert "crashed" in _outcomes(tmp_path / "custsync.db")


def test_kill_9_at_random_moments_then_a_rerun_matches_an_uninterrupted_run(
    crash_scenario: Scenario, tmp_path: Path, rng: random.Random
) -> None:
    crashes = 0
    for trial in range(5):
        result = kill_trial(
            crash_scenario.workload,
            crash_scenario.reference,
            tmp_path / "trial",
            rng,
            kills=rng.randint(1, 2),
            by_progress=True,
        )
        assert result.violations == [], f"trial {trial}: {result.violations[:5]}"
        crashes += result.crashes
    assert crashes >= 4, "too few kills landed while the run was going"


def test_a_hot_journal_left_in_a_channel_is_rolled_back_not_a_reason_to_skip(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    channel = copy.channels[0].database
    writer = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size = 5')\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.executemany('INSERT INTO customer VALUES (?, ?, ?, ?)',"
        " [(f'ghost-{i}', f'X{i}', '{}', 'now') for i in range(5000)])\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(channel)], check=False)
    assert Path(f"{channel}-journal").stat().st_size > 0
    read_only = sqlite3.connect(f"file:{channel}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError):
        read_only.execute("SELECT count(*) FROM async_customer_operation").fetchone()
    read_only.close()

    process = start_run(copy, "--format", "json")
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    assert json.loads(stdout)["skipped_channels"] == {}
    store = tmp_path / "custsync.db"
    assert check_invariants(store, copy.channels, complete=True) == []
    final = snapshot(store, copy.channels)
    assert not any(key.startswith("ghost-") for key in final["channels"][copy.channels[0].name])
    assert differences(crash_scenario.reference.state, final) == []
