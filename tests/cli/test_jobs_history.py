"""``custsync jobs``: the job run history in every format, with filters."""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import Invoke
from tests.helpers import Workspace, person

KEYS = [
    "id",
    "job",
    "channel",
    "started_at",
    "finished_at",
    "seconds",
    "pulled",
    "synced",
    "failed",
    "blocked",
    "distributed",
    "outcome",
    "error",
    "skipped_channels",
    "pid",
    "actor",
]


def _two_runs(ws: Workspace, cli: Invoke) -> None:
    web = ws.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("a-2", "create_customer", person("Erik", "Lund", email="erik@"))
    assert cli("run-jobs").exit_code == 0
    web.add("a-3", "create_customer", person("Karin", "Berg"))
    assert cli("run-jobs").exit_code == 0


def test_json_newest_first_with_counts(workspace: Workspace, cli: Invoke) -> None:
    _two_runs(workspace, cli)
    result = cli("jobs", "--format", "json")
    assert result.exit_code == 0, result.stderr
    runs = result.json()
    assert [r["id"] for r in runs] == [6, 5, 4, 3, 2, 1]
    assert list(runs[0]) == KEYS
    assert [r["job"] for r in runs] == ["distribute", "sync", "pull"] * 2
    first_sync = runs[4]
    assert (first_sync["synced"], first_sync["failed"]) == (1, 1)
    assert runs[2]["pulled"] == 1 and runs[0]["distributed"] == 1
    for run in runs:
        assert run["outcome"] == "ok" and run["error"] is None
        assert run["started_at"] <= run["finished_at"]
        assert 0 <= run["seconds"] < 60
        assert run["actor"] == "tester"


def test_filters_and_limit(workspace: Workspace, cli: Invoke) -> None:
    _two_runs(workspace, cli)
    sync = cli("jobs", "--job", "sync", "--format", "json").json()
    assert [r["job"] for r in sync] == ["sync", "sync"]
    both = cli("jobs", "--job", "pull", "--job", "distribute", "--format", "json").json()
    assert {r["job"] for r in both} == {"pull", "distribute"} and len(both) == 4
    limited = cli("jobs", "--limit", "1", "--format", "json")
    assert [r["id"] for r in limited.json()] == [6]
    assert "showing the newest 1 of 6 runs" in limited.stderr
    recent = cli("jobs", "--since", "1h", "--format", "json").json()
    assert len(recent) == 6
    future = cli("jobs", "--since", "2999-01-01", "--format", "json")
    assert future.exit_code == 0 and future.json() == []
    assert "no job runs match" in future.stderr
    assert cli("jobs", "--outcome", "failed", "--format", "json").json() == []
    ok = cli("jobs", "--outcome", "ok", "--outcome", "crashed", "--format", "json").json()
    assert len(ok) == 6
    bad = cli("jobs", "--job", "nightly")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr
    bad_time = cli("jobs", "--since", "yesterday")
    assert bad_time.exit_code == 2 and "is not a time" in bad_time.stderr


def test_csv_jsonl_and_table(workspace: Workspace, cli: Invoke) -> None:
    _two_runs(workspace, cli)
    text = cli("jobs", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == KEYS
    assert [r["job"] for r in rows[:3]] == ["distribute", "sync", "pull"]
    assert rows[4]["synced"] == "1" and rows[4]["failed"] == "1"
    assert rows[0]["skipped_channels"] == "{}"

    lines = cli("jobs", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [6, 5, 4, 3, 2, 1]

    table = cli("jobs").stdout.splitlines()
    header = [c.strip() for c in table[0].split("|")]
    assert header == [
        "run",
        "job",
        "started (UTC)",
        "finished",
        "duration",
        "counts",
        "outcome",
        "error",
    ]
    body = [[c.strip() for c in line.split("|")] for line in table[2:]]
    assert [row[0] for row in body] == ["6", "5", "4", "3", "2", "1"]
    assert body[4][1] == "sync" and body[4][5] == "synced 1, failed 1"
    assert len(body[0][2]) == 19 and len(body[0][3]) == 8 and body[0][4].endswith(" s")


def test_history_keeps_a_failed_channel_reason(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    workspace.channel("store-042").path.write_bytes(b"garbage" * 100)
    assert cli("run-jobs").exit_code == 0
    pull = cli("jobs", "--job", "pull", "--format", "json").json()[0]
    assert pull["outcome"] == "partial"
    partial = cli("jobs", "--outcome", "partial", "--format", "json").json()
    assert [r["job"] for r in partial] == ["pull"]
    assert list(pull["skipped_channels"]) == ["store-042"]
    table = cli("jobs", "--job", "pull", "--wide").stdout
    assert "partial" in table and "skipped store-042" in table


def test_idle_loop_rounds_stay_out_of_the_default_listing(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    assert workspace.run("run-jobs").returncode == 0
    hidden = workspace.run("jobs", "--format", "json")
    assert (hidden.returncode, json.loads(hidden.stdout)) == (0, [])
    assert hidden.stderr == (
        "no job runs match; 3 with nothing to do are left out (--all shows them)\n"
    )

    web.add("a-1", "create_customer", person())
    assert workspace.run("run-jobs").returncode == 0
    loop = workspace.run("run-jobs", "--loop", "--interval", "1", "--max-runs", "3")
    assert loop.returncode == 0, loop.stderr

    listed = workspace.run("jobs", "--format", "json")
    assert listed.returncode == 0 and listed.stderr == ""
    assert [(r["id"], r["job"]) for r in json.loads(listed.stdout)] == [
        (6, "distribute"),
        (5, "sync"),
        (4, "pull"),
    ]
    assert "nothing to do" not in workspace.run("jobs").stdout

    everything = json.loads(workspace.run("jobs", "--all", "--format", "json").stdout)
    assert [r["id"] for r in everything] == list(range(15, 0, -1))
    idle = everything[:9] + everything[12:]
    assert all(r["outcome"] == "ok" and r["pulled"] + r["distributed"] == 0 for r in idle)
    assert "nothing to do" in workspace.run("jobs", "--all").stdout
