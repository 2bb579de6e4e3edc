"""Clean stop: SIGTERM and SIGINT finish or roll back the batch in hand and record the run."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from custsync_cli.devtools.invariants import check_invariants
from custsync_cli.devtools.soak import (
    TrialResult,
    copy_workload,
    finish_and_check,
    start_run,
    wait_for_events,
)
from custsync_cli.store.lock import lock_path
from tests.reliability.support import Scenario, wait_for_query, wait_for_run_start

pytestmark = pytest.mark.slow

EXPECTED_EXIT = {signal.SIGTERM: 143, signal.SIGINT: 130}


def _lock_is_free(store: Path) -> bool:
    fd = os.open(lock_path(store), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_signals_at_random_moments_stop_cleanly_and_a_rerun_completes(
    long_scenario: Scenario,
    tmp_path: Path,
    rng: random.Random,
    processes: list[subprocess.Popen[str]],
) -> None:
    interrupted = {signal.SIGTERM: 0, signal.SIGINT: 0}
    operations = long_scenario.reference.state["operations"].values()
    total_events = len(operations) * 2 + sum(1 for op in operations if op[3])
    for trial in range(4):
        sig = (signal.SIGTERM, signal.SIGINT)[trial % 2]
        copy = copy_workload(long_scenario.workload, tmp_path / "trial")
        store = copy.root / "custsync.db"
        process = start_run(copy)
        processes.append(process)
        assert wait_for_run_start(process, store)
        # A random moment measured in progress, not time, so machine speed does not matter.
        wait_for_events(process, store, rng.randint(1, int(total_events * 0.8)))
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr
        if process.returncode in (0, -sig):
            # The signal came after the last batch, once the handlers were gone: the run
            # finished its work, and the store must show it.
            assert check_invariants(store, copy.channels, complete=True) == []
            continue
        interrupted[sig] += 1
        assert process.returncode == EXPECTED_EXIT[sig], stderr
        assert f"stopped by {sig.name}" in stderr
        assert len(stderr.strip().splitlines()) == 1
        conn = sqlite3.connect(store)
        runs = conn.execute(
            "SELECT outcome, error FROM job_runs WHERE pid = ? ORDER BY id", (process.pid,)
        ).fetchall()
        conn.close()
        assert runs[-1] == ("interrupted", f"stopped by {sig.name}")
        assert all(outcome == "ok" for outcome, _ in runs[:-1])
        assert _lock_is_free(store)
        assert lock_path(store).read_text() == ""
        assert check_invariants(store, copy.channels, complete=False) == []
        result = finish_and_check(copy, long_scenario.reference, TrialResult("signal"))
        assert result.violations == []
    assert interrupted[signal.SIGTERM] >= 1 and interrupted[signal.SIGINT] >= 1, interrupted


def test_loop_stops_on_sigterm_while_it_sleeps(
    long_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(long_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    process = start_run(copy, "--loop", "--interval", "3600")
    processes.append(process)
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
    assert process.poll() is None, "the loop ended by itself"
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)

    assert time.monotonic() - signalled < 3
    # SIGTERM is how a service manager stops the loop: a clean stop, not an error.
    assert process.returncode == 0, stderr
    assert stderr == "stopped\n"
    assert _lock_is_free(store)
    assert check_invariants(store, copy.channels, complete=True) == []


def _committed(store: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(store)
    try:
        return conn.execute(
            # attempts = 0: failed when pulled (malformed), not by the sync job
            "SELECT sum(status = 'synced'), sum(status = 'failed' AND attempts > 0),"
            " sum(status = 'blocked') FROM operations"
        ).fetchone()
    finally:
        conn.close()


def _sync_runs(store: Path, pid: int) -> list[tuple[str, str | None, int, int, int]]:
    conn = sqlite3.connect(store)
    try:
        return conn.execute(
            "SELECT outcome, error, synced, failed, blocked FROM job_runs"
            " WHERE pid = ? AND job = 'sync' ORDER BY id",
            (pid,),
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sig", "args", "code", "said"),
    [
        (signal.SIGTERM, ("--loop",), 0, "stopped\n"),
        (signal.SIGTERM, (), 143, "custsync: error: stopped by SIGTERM\n"),
        (signal.SIGINT, ("--loop",), 130, "custsync: error: stopped by SIGINT\n"),
    ],
)
def test_a_signal_mid_sync_records_the_run_interrupted_with_its_committed_counts(
    long_scenario: Scenario,
    tmp_path: Path,
    processes: list[subprocess.Popen[str]],
    sig: signal.Signals,
    args: tuple[str, ...],
    code: int,
    said: str,
) -> None:
    copy = copy_workload(long_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    # Held after each sync batch commits, so the signal lands while the sync job is going.
    process = start_run(copy, *args, CUSTSYNC_PAUSE="sync.after_commit:3")
    processes.append(process)
    wait_for_query(process, store, "SELECT 1 FROM audit_log WHERE action = 'synced'")
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == code, stderr
    assert stderr == said
    runs = _sync_runs(store, process.pid)
    assert len(runs) == 1
    outcome, error, synced, failed, blocked = runs[0]
    assert (outcome, error) == ("interrupted", f"stopped by {sig.name}")
    assert synced > 0
    assert (synced, failed, blocked) == _committed(store)
    assert _lock_is_free(store)
    assert check_invariants(store, copy.channels, complete=False) == []
