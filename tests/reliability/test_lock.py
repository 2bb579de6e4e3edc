"""One run at a time: overlapping run-jobs processes never both work."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from custsync_cli.devtools.invariants import check_invariants, differences, snapshot
from custsync_cli.devtools.soak import (
    copy_workload,
    custsync_executable,
    job_env,
    outbox_rows,
    run_to_end,
    start_run,
)
from custsync_cli.errors import LockedError
from custsync_cli.store.lock import lock_path, run_lock
from tests.helpers import Result, Workspace, person
from tests.reliability.support import Scenario, wait_for_open_file, wait_for_run_start

Invoke = Callable[..., Result]

pytestmark = pytest.mark.slow

OUTBOX_SQL = (
    "INSERT INTO async_customer_operation (async_account, operation, fields, created_at,"
    " created_by) VALUES (?, ?, ?, ?, ?)"
)


def test_runs_started_at_once_exactly_one_works_the_others_exit_75_naming_it(
    long_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(long_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    rng = random.Random(4)
    for round_number in range(3):
        if round_number:
            for channel in copy.channels:
                conn = sqlite3.connect(channel.database)
                with conn:
                    rows = outbox_rows(rng, f"{channel.name}r{round_number}", 250)
                    conn.executemany(OUTBOX_SQL, rows)
                conn.close()
                copy.outbox[channel.name] = [
                    int(r[0])
                    for r in sqlite3.connect(channel.database).execute(
                        "SELECT replication_counter FROM async_customer_operation"
                    )
                ]
        started = time.monotonic()
        # The winner waits inside its run until the others have ended, whatever the machine's
        # speed, so they always meet its lock.
        release = tmp_path / f"release-{round_number}"
        runs = [
            start_run(copy, "--format", "json", CUSTSYNC_PAUSE=f"runner.after_start:{release}")
            for _ in range(3)
        ]
        finished: dict[int, float] = {}
        while len(finished) < len(runs):
            for process in runs:
                if process.pid not in finished and process.poll() is not None:
                    finished[process.pid] = time.monotonic() - started
            if len(finished) == len(runs) - 1:
                release.touch()
            time.sleep(0.01)
        results = {}
        for process in runs:
            out, err = process.communicate(timeout=120)
            results[process.pid] = (process.returncode, out, err)
        winners = [pid for pid, (code, _, _) in results.items() if code == 0]
        assert len(winners) == 1, f"round {round_number}: {results}"
        winner = winners[0]
        assert json.loads(results[winner][1])["pulled"] > 0
        for pid, (code, out, err) in results.items():
            if pid == winner:
                continue
            assert code == 75, (round_number, results)
            assert f"pid {winner}" in err, (round_number, results)
            assert "run-jobs since" in err
            assert "Traceback" not in err
            assert len(err.strip().splitlines()) == 1
            assert out == ""
            assert finished[pid] < finished[winner], "a losing run waited for the winner"
        assert check_invariants(store, copy.channels, complete=True) == []
        if round_number == 0:
            state = snapshot(store, copy.channels)
            assert differences(long_scenario.reference.state, state) == []
    conn = sqlite3.connect(store)
    runs_recorded = conn.execute("SELECT count(*), count(DISTINCT pid) FROM job_runs").fetchone()
    conn.close()
    assert runs_recorded == (9, 3)


def test_wait_gives_up_after_the_time_asked_or_runs_once_the_lock_is_free(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    with run_lock(store, purpose="maintenance"):
        started = time.monotonic()
        code, stderr = run_to_end(copy, "--wait", "1")
        waited = time.monotonic() - started
        assert code == 75
        assert 1.0 <= waited < 10
        assert "maintenance since" in stderr

        later = start_run(copy, "--wait", "30")
        time.sleep(1.0)
        assert later.poll() is None, "the second run did not wait for the lock"
    _, stderr = later.communicate(timeout=120)
    assert later.returncode == 0, stderr
    assert check_invariants(store, copy.channels, complete=True) == []


def test_the_kernel_releases_the_lock_of_a_killed_run(
    crash_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    # Held inside its first job whatever the machine's speed, so the kill always lands mid-run.
    victim = start_run(copy, CUSTSYNC_PAUSE="runner.after_start:60")
    processes.append(victim)
    assert wait_for_run_start(victim, store)
    victim.kill()
    victim.communicate()

    code, stderr = run_to_end(copy)

    assert code == 0, stderr
    assert lock_path(store).read_text() == ""
    conn = sqlite3.connect(store)
    rows = conn.execute("SELECT outcome FROM job_runs WHERE pid = ?", (victim.pid,))
    outcomes = [r[0] for r in rows]
    conn.close()
    assert outcomes == ["crashed"]
    assert check_invariants(store, copy.channels, complete=True) == []


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("--wait", "60"), 143, "stopped by SIGTERM"),
        # A loop waits for the lock as a service; SIGTERM is its ordinary stop.
        (("--loop",), 0, "stopped"),
    ],
)
def test_a_waiting_run_can_be_stopped(
    crash_scenario: Scenario, tmp_path: Path, args: tuple[str, ...], code: int, said: str
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    with lock_held_in_a_thread(store):
        waiting = start_run(copy, *args)
        # Once it has the lock file open it is waiting, with its signal handlers in place.
        wait_for_open_file(waiting, lock_path(store))
        waiting.terminate()
        _, stderr = waiting.communicate(timeout=10)
    assert waiting.returncode == code, stderr
    assert stderr.splitlines()[-1].endswith(said)
    assert "Traceback" not in stderr


def test_resync_and_bulk_edit_take_the_same_lock(workspace: Workspace, cli: Invoke) -> None:
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person(email="broken@"))
    assert cli("run-jobs").exit_code == 0
    with run_lock(workspace.store_path, purpose="run-jobs"):
        for args in (
            ("resync", "1"),
            ("edit", "--status", "failed", "--set", "email=a@example.se", "--reason", "r", "--yes"),
        ):
            result = cli(*args)
            assert result.exit_code == 75, (args, result.stderr)
            assert f"pid {os.getpid()}" in result.stderr
    store = workspace.store()
    status = store.execute("SELECT status FROM operations WHERE id = 1").fetchone()[0]
    store.close()
    assert status == "failed"


@contextmanager
def lock_held_in_a_thread(store: Path, purpose: str = "run-jobs") -> Iterator[None]:
    """Hold the store's run lock from another thread of this process for the block's length."""
    stop = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with run_lock(store, purpose=purpose):
            held.set()
            stop.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        yield
    finally:
        stop.set()
        holder.join()


def _run_pids(store: Path) -> set[int]:
    conn = sqlite3.connect(store)
    try:
        return {row[0] for row in conn.execute("SELECT DISTINCT pid FROM job_runs")}
    finally:
        conn.close()


def test_an_alias_of_the_store_or_a_removed_lock_file_never_lets_a_second_run_in(
    crash_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path / "w")
    store = copy.root / "custsync.db"
    victim = start_run(copy, CUSTSYNC_PAUSE="runner.after_start:60")
    processes.append(victim)
    assert wait_for_run_start(victim, store)
    (tmp_path / "alias.db").symlink_to(store)
    (tmp_path / "linked").symlink_to(copy.root)
    aliases = [
        tmp_path / "alias.db",
        tmp_path / "linked" / "custsync.db",
        copy.root / "channels" / ".." / "custsync.db",
    ]

    def second_run(db: Path) -> tuple[int, str]:
        process = start_run(copy, CUSTSYNC_DB=str(db))
        processes.append(process)
        _, stderr = process.communicate(timeout=120)
        return process.returncode, stderr

    for alias in aliases:
        code, stderr = second_run(alias)
        assert code == 75, (alias, stderr)
        assert f"pid {victim.pid}, run-jobs since" in stderr
    lock_path(store).unlink()
    for db in [store, *aliases]:
        code, stderr = second_run(db)
        assert code == 75, (db, stderr)
        assert "its lock file was removed" in stderr
        assert len(stderr.strip().splitlines()) == 1
        assert "Traceback" not in stderr
    assert _run_pids(store) == {victim.pid}

    victim.kill()
    victim.communicate()
    code, stderr = run_to_end(copy)
    assert code == 0, stderr
    assert check_invariants(store, copy.channels, complete=True) == []
    assert differences(crash_scenario.reference.state, snapshot(store, copy.channels)) == []


def test_one_process_sees_its_own_hold_after_the_lock_file_is_removed(tmp_path: Path) -> None:
    store = tmp_path / "custsync.db"
    store.write_bytes(b"")
    with run_lock(store):
        lock_path(store).unlink()
        with pytest.raises(LockedError, match="its lock file was removed"), run_lock(store):
            pass
    with run_lock(tmp_path / "." / "custsync.db"):
        assert lock_path(store).read_text().startswith(f"pid {os.getpid()}, run-jobs since")


def test_a_loop_waits_for_an_operators_lock_and_runs_when_it_is_free(
    crash_scenario: Scenario, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path)
    store = tmp_path / "custsync.db"
    with lock_held_in_a_thread(store, purpose="resync"):
        args = ["run-jobs", "--loop", "--interval", "1", "--max-runs", "2", "--format", "json"]
        loop = subprocess.Popen(
            [custsync_executable(), *args],
            cwd=copy.root,
            env=job_env(copy),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(loop)
        assert loop.stderr is not None
        # Printed once the loop found the lock held; an exit 75 would print its error instead.
        waiting = loop.stderr.readline()
        assert waiting.startswith(f"waiting for the lock on {store} (pid {os.getpid()}, resync")
        assert loop.poll() is None
    out, err = loop.communicate(timeout=120)
    assert loop.returncode == 0, err
    assert err == ""
    reports = [json.loads(line) for line in out.splitlines()]
    assert len(reports) == 2
    assert reports[0]["pulled"] > 0
    assert check_invariants(store, copy.channels, complete=True) == []
