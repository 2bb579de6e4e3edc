"""Global options work after the command too, through the installed command, both parsers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import Workspace, person


@pytest.fixture
def failed_op(workspace: Workspace) -> int:
    """A workspace whose store holds one failed operation (a bad email); its id."""
    workspace.channel("web-se").add("anna-1", "create_customer", person(email="anna at x"))
    result = workspace.run("run-jobs")
    assert result.returncode == 0, result.stderr
    with workspace.store() as conn:
        return int(conn.execute("SELECT id FROM operations WHERE status = 'failed'").fetchone()[0])


@pytest.mark.parametrize("form", ["separate", "inline"])
@pytest.mark.parametrize("command", [["list", "--format", "json"], ["status", "--format", "json"]])
def test_config_after_the_command_wins_over_the_environment(
    workspace: Workspace, failed_op: int, form: str, command: list[str]
) -> None:
    option = ["--config", str(workspace.config_path)]
    if form == "inline":
        option = [f"--config={workspace.config_path}"]
    env = workspace.env(CUSTSYNC_CONFIG=str(workspace.root / "missing.yaml"))
    assert workspace.run(*command, env=env).returncode != 0
    result = workspace.run(*command, *option, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_db_after_run_jobs_names_the_store(workspace: Workspace, tmp_path: Path) -> None:
    workspace.channel("web-se").add("anna-1", "create_customer", person())
    other = tmp_path / "other.db"
    result = workspace.run("run-jobs", "--db", str(other), "--no-color")
    assert result.returncode == 0, result.stderr
    assert not workspace.store_path.exists()
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT status FROM operations").fetchall() == [("synced",)]


def test_actor_after_the_command_is_recorded_and_a_value_stays_a_value(
    workspace: Workspace, failed_op: int
) -> None:
    result = workspace.run(
        "edit", str(failed_op), "--set", "email=anna@example.se", "--reason", "--db",
        "--actor=alice", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with workspace.store() as conn:
        actor, details = conn.execute(
            "SELECT actor, details FROM audit_log WHERE action = 'edited'"
        ).fetchone()
    assert actor == "alice"  # over CUSTSYNC_ACTOR=tester
    assert json.loads(details)["reason"] == "--db"


def test_a_commands_own_option_of_the_same_name_stays_its_own(
    workspace: Workspace, failed_op: int
) -> None:
    # audit --actor filters events by actor; it is not the global --actor.
    mine = workspace.run("audit", "--actor", "tester", "--format", "json")
    nobody = workspace.run("audit", "--actor", "nobody", "--format", "json")
    assert mine.returncode == nobody.returncode == 0
    assert json.loads(mine.stdout) and json.loads(nobody.stdout) == []


def test_nothing_after_double_dash_moves(workspace: Workspace, failed_op: int) -> None:
    result = workspace.run("show", "--", "--config", "x.yaml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [["list", "--config"], ["list", "--config", "--limit", "1"], ["status", "--db"]],
)
def test_a_global_option_after_the_command_without_its_value_is_a_usage_error(
    workspace: Workspace, args: list[str]
) -> None:
    result = workspace.run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"custsync: error: option {args[1]} needs a value"
