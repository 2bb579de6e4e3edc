"""The installed ``custsync`` command as cron and operators run it: real subprocesses."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from tests.helpers import ChannelDB, Workspace, custsync_executable, person

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_twice_without_duplicating(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    env = ws.env()
    env.pop("CUSTSYNC_CONFIG")
    first = ws.run("demo", "--dir", "demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    for status in ("synced", "failed", "blocked"):
        assert status in first.stdout
    assert "HQ customers created:" in first.stdout
    assert "custsync list --status failed" in first.stdout
    store = tmp_path / "demo" / "custsync.db"
    conn = sqlite3.connect(store)
    counts = dict(
        conn.execute("SELECT status, count(*) FROM operations GROUP BY status").fetchall()
    )
    total = sum(counts.values())
    conn.close()
    assert counts["synced"] > total * 0.75
    bad = counts.get("failed", 0) + counts.get("blocked", 0)
    assert 0.05 * total <= counts["failed"] <= 0.15 * total
    assert bad <= 0.25 * total
    assert stat.S_IMODE(store.stat().st_mode) == 0o600

    second = ws.run("demo", "--dir", "demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "pulled 0, synced 0" in second.stderr
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == total
    codes = {r[0] for r in conn.execute("SELECT DISTINCT code FROM operation_errors")}
    conn.close()
    assert {"invalid_email", "required", "too_long"} <= codes
    assert len(codes) >= 5


def test_cron_style_run_prints_one_summary_line(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("a-2", "create_customer", person("Erik", "Lund", email="erik@"))
    result = workspace.run("run-jobs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "run-jobs ok: pulled 2, synced 1, failed 1, blocked 0, distributed 1"
    )
    assert "Erik" not in result.stderr and "erik@" not in result.stderr

    json_run = workspace.run("run-jobs", "--format", "json")
    report = json.loads(json_run.stdout)
    assert report["outcome"] == "ok" and report["pulled"] == 0
    assert set(report) >= {"pulled", "synced", "failed", "blocked", "distributed", "jobs"}


def test_loop_runs_until_max_runs(workspace: Workspace) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    result = workspace.run("run-jobs", "--loop", "--interval", "1", "--max-runs", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("run-jobs ok") == 2
    conn = workspace.store()
    assert conn.execute("SELECT count(*) FROM job_runs WHERE job = 'pull'").fetchone()[0] == 2
    conn.close()


def test_init_writes_a_commented_config_and_a_private_store(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    env = ws.env()
    env.pop("CUSTSYNC_CONFIG")
    result = ws.run("init", env=env)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "custsync.yaml").read_text()
    assert text.startswith("# custsync configuration.")
    assert stat.S_IMODE((tmp_path / "custsync.db").stat().st_mode) == 0o600
    again = ws.run("init", env=env)
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_sample_operations_load_and_sync(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    database = tmp_path / "channels" / "web-se.db"
    database.parent.mkdir()
    ws.channels["web-se"] = ChannelDB(database)
    ws.write_config()
    loaded = ws.run(
        "load-ops", str(ROOT / "examples" / "operations.yaml"), "--database", str(database)
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "appended 5 operation(s)" in loaded.stderr
    result = ws.run("run-jobs")
    assert "pulled 5, synced 3, failed 1, blocked 1, distributed 3" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("- operation: create_customer\n")
    refused = ws.run("load-ops", str(bad), "--database", str(database))
    assert refused.returncode == 2
    assert "'async_account' must be a non-empty string" in refused.stderr


def test_missing_or_corrupt_store_and_version(workspace: Workspace) -> None:
    workspace.store_path.write_bytes(b"this is not a database at all" * 100)
    result = workspace.run("run-jobs")
    assert result.returncode == 1
    assert "not a valid custsync store" in result.stderr
    assert "Traceback" not in result.stderr
    version = workspace.run("--version")
    assert version.returncode == 0 and version.stdout.startswith("custsync ")
    assert os.path.basename(custsync_executable()) == "custsync"
