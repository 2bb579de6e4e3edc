"""A run killed or stopped mid-job records exactly the work it committed, batch by batch."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from typing import Any

import pytest

from tests.helpers import Workspace, custsync_executable, person
from tests.reliability.support import wait_for_query

pytestmark = pytest.mark.slow

JOB_COUNTS = {
    "pull": ("pulled",),
    "sync": ("synced", "failed", "blocked"),
    "distribute": ("distributed",),
}
SYNCED_SOME = "SELECT 1 FROM audit_log WHERE action IN ('synced', 'sync_failed')"


def _shop(ws: Workspace) -> None:
    """25 creates, 2 with a bad email, in batches of 5."""
    web = ws.channel("web-se")
    for i in range(25):
        email = "broken@" if i in (3, 17) else f"c{i}@example.se"
        web.add(f"acc-{i}", "create_customer", person(f"Anna{i}", "Berg", email=email))
    ws.write_config(jobs={"batch_size": 5})


def _start(ws: Workspace, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [custsync_executable(), "run-jobs", "-q", *args],
        cwd=ws.root,
        env=ws.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _runs(ws: Workspace) -> dict[str, dict[str, Any]]:
    """The newest run of each job, as the installed ``custsync jobs`` prints it."""
    listed = ws.run("jobs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    runs: dict[str, dict[str, Any]] = {}
    for run in reversed(json.loads(listed.stdout)):
        runs[run["job"]] = run
    return runs


def _committed(ws: Workspace) -> dict[str, int]:
    conn = sqlite3.connect(ws.store_path)
    try:

        def count(where: str) -> int:
            return int(conn.execute(f"SELECT count(*) FROM operations WHERE {where}").fetchone()[0])

        return {
            "pulled": count("1"),
            "synced": count("status = 'synced'"),
            "failed": count("status = 'failed'"),
            "blocked": count("status = 'blocked'"),
            "distributed": count("distributed_at IS NOT NULL"),
        }
    finally:
        conn.close()


def _assert_counts_match(ws: Workspace, job: str, run: dict[str, Any]) -> None:
    committed = _committed(ws)
    for key in JOB_COUNTS[job]:
        assert run[key] == committed[key], key


def test_kill_9_while_held_after_a_sync_batch_leaves_counts_of_the_committed_work(
    workspace: Workspace,
) -> None:
    _shop(workspace)
    process = _start(workspace, CUSTSYNC_PAUSE="sync.after_commit:600")
    try:
        wait_for_query(process, workspace.store_path, SYNCED_SOME)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    runs = _runs(workspace)
    assert runs["pull"]["outcome"] == "ok" and runs["pull"]["pulled"] == 25
    crashed = runs["sync"]
    assert crashed["outcome"] == "running"  # until the next run finds its process gone
    assert crashed["synced"] + crashed["failed"] == 5
    _assert_counts_match(workspace, "sync", crashed)

    rerun = workspace.run("run-jobs")
    assert rerun.returncode == 0, rerun.stderr
    listed = json.loads(workspace.run("jobs", "--format", "json").stdout)
    closed = next(run for run in listed if run["id"] == crashed["id"])
    assert closed["outcome"] == "crashed"
    assert (closed["synced"], closed["failed"]) == (crashed["synced"], crashed["failed"])
    syncs = [run for run in listed if run["job"] == "sync"]
    assert sum(run["synced"] for run in syncs) == 23
    assert sum(run["failed"] for run in syncs) == 2


@pytest.mark.parametrize("job", ["pull", "sync", "distribute"])
def test_a_hard_exit_after_two_batches_records_two_batches(workspace: Workspace, job: str) -> None:
    _shop(workspace)
    crashed = workspace.run("run-jobs", env=workspace.env(CUSTSYNC_FAULT=f"{job}.after_commit:2"))
    assert crashed.returncode == 99, crashed.stderr

    run = _runs(workspace)[job]
    assert run["outcome"] == "running"
    done = sum(run[key] for key in JOB_COUNTS[job])
    assert done == 10
    _assert_counts_match(workspace, job, run)
