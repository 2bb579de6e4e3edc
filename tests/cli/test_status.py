"""``custsync status``: counts, ages, error codes, last runs, verdict, ``--check`` exit codes."""

from __future__ import annotations

import time

from custsync_cli.store.database import open_store
from tests.conftest import Invoke
from tests.helpers import Workspace, person


def _two_good_one_bad(ws: Workspace, cli: Invoke) -> None:
    web = ws.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("a-2", "create_customer", person("Erik", "Lund", email="erik@"))
    ws.channel("store-042").add("b-1", "create_customer", person("Karin", "Berg"))
    assert cli("run-jobs").exit_code == 0


def _failed_id(ws: Workspace) -> int:
    with ws.store() as conn:
        return int(conn.execute("SELECT id FROM operations WHERE status = 'failed'").fetchone()[0])


def test_json_has_counts_ages_codes_runs_and_verdict(workspace: Workspace, cli: Invoke) -> None:
    _two_good_one_bad(workspace, cli)
    result = cli("status", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["counts"]["web-se"] == {
        "pending": 0,
        "blocked": 0,
        "failed": 1,
        "synced": 1,
        "discarded": 0,
        "total": 2,
    }
    assert data["counts"]["store-042"]["synced"] == 1
    assert data["totals"]["total"] == 3 and data["totals"]["failed"] == 1
    assert data["oldest"]["pending"] is None
    failed = data["oldest"]["failed"]
    assert failed["id"] == _failed_id(workspace) and failed["channel"] == "web-se"
    assert failed["age_seconds"] > 3600  # the helper's channel clock is in November 2026
    assert data["error_codes"] == [
        {"code": "invalid_email", "count": 1, "example_operation_id": failed["id"]}
    ]
    assert [run["job"] for run in data["last_runs"]] == ["pull", "sync", "distribute"]
    pull, sync, distribute = data["last_runs"]
    assert pull["pulled"] == 3 and sync["synced"] == 2 and sync["failed"] == 1
    assert distribute["distributed"] == 2
    assert all(run["outcome"] == "ok" and run["seconds"] >= 0 for run in data["last_runs"])
    assert data["customers"] == 2
    assert data["healthy"] is False
    assert data["problems"] == ["1 failed operation(s) (allowed: 0)"]
    assert data["verdict"].startswith("needs attention: 1 failed")


def test_table_at_a_fixed_width(workspace: Workspace, cli: Invoke) -> None:
    _two_good_one_bad(workspace, cli)
    result = cli("status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    table = [[c.strip() for c in line.split("|")] for line in lines if "|" in line]
    rows = {cells[0]: cells[1:] for cells in table}
    assert rows["channel"] == ["pending", "blocked", "failed", "synced", "discarded", "total"]
    assert rows["web-se"] == ["0", "0", "1", "1", "0", "2"]
    assert rows["store-042"] == ["0", "0", "0", "1", "0", "1"]
    assert rows["total"] == ["0", "0", "1", "2", "0", "3"]
    assert rows["invalid_email"] == ["1", str(_failed_id(workspace))]
    assert rows["sync"][1].endswith(" s")
    assert rows["sync"][2:] == ["synced 2, failed 1", "ok", ""]
    assert rows["distribute"][2:] == ["distributed 2", "ok", ""]
    assert all(len(line) <= 200 for line in lines)
    assert lines[-1] == "needs attention: 1 failed operation(s) (allowed: 0)"
    assert "\x1b[" not in result.stdout


def test_check_healthy_and_unhealthy(workspace: Workspace, cli: Invoke) -> None:
    _two_good_one_bad(workspace, cli)
    unhealthy = cli("status", "--check")
    assert unhealthy.exit_code == 4
    assert unhealthy.stdout.startswith("custsync UNHEALTHY:")
    assert "unhealthy: 1 failed operation(s) (allowed: 0)" in unhealthy.stderr

    healthy = cli("status", "--check", "--max-failed", "1", "--max-run-age", "1h")
    assert healthy.exit_code == 0, healthy.stderr
    assert healthy.stdout == "custsync OK: healthy: 3 operations, 1 failed, 2 synced\n"
    assert healthy.stderr == ""

    time.sleep(1.1)
    stale = cli("status", "--check", "--max-failed", "5", "--max-run-age", "1s")
    assert stale.exit_code == 4
    assert stale.stderr.count("unhealthy: last ") == 3
    assert "unhealthy: last pull run started 1s ago (allowed: 1s)" in stale.stderr


def test_check_pending_age_and_json_with_check(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    assert cli("run-jobs", "--job", "pull").exit_code == 0
    old = cli("status", "--check", "--max-pending-age", "2h", "--format", "json")
    assert old.exit_code == 4
    data = old.json()
    assert data["totals"]["pending"] == 1 and data["healthy"] is False
    assert data["problems"][0].startswith("oldest pending operation 1 is ")
    assert "unhealthy: oldest pending operation 1" in old.stderr
    assert cli("status", "--check", "--max-pending-age", "1000d").exit_code == 0


def test_failed_or_partial_last_run_is_unhealthy(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    bad = workspace.channel("store-042")
    bad.path.write_bytes(b"not a channel database" * 50)
    assert cli("run-jobs").exit_code == 0
    result = cli("status", "--check")
    assert result.exit_code == 4
    assert "unhealthy: last pull run 1 partial: skipped store-042" in result.stderr


def test_no_runs_and_bad_durations(workspace: Workspace, cli: Invoke) -> None:
    open_store(workspace.store_path, create=True).close()
    empty = cli("status", "--check", "--max-run-age", "30m")
    assert empty.exit_code == 4
    assert "unhealthy: no job has run yet" in empty.stderr
    table = cli("status")
    assert table.exit_code == 0
    assert "No job has run yet" in table.stdout
    assert table.stdout.splitlines()[-1].startswith("healthy: 0 operations")
    for bad in ("soon", "30", "-2h"):
        refused = cli("status", "--check", "--max-run-age", bad)
        assert refused.exit_code == 2, bad
        assert refused.stderr.count("\n") == 1 and "--max-run-age" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_missing_store_is_not_found(workspace: Workspace, cli: Invoke) -> None:
    result = cli("status")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr
    assert not workspace.store_path.exists()
