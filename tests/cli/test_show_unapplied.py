"""`show` of an update not applied yet: HQ's value now, and what a resync would keep."""

from __future__ import annotations

from typing import Any

import pytest

from custsync_cli.cli import run
from tests.conftest import Invoke
from tests.helpers import Workspace, person

OLD_PHONE = "+46 70 123 45 67"
NEWER_PHONE = "+46 70 555 55 55"


def op_ids(ws: Workspace) -> dict[int, int]:
    with ws.store() as conn:
        return {
            int(c): int(i)
            for i, c in conn.execute("SELECT id, replication_counter FROM operations")
        }


@pytest.fixture
def stale(workspace: Workspace) -> dict[str, int]:
    """A failed update of anna's phone, and a later update of the phone that synced."""
    web = workspace.channel("web-se")
    create = web.add("anna-1", "create_customer", person(phone=OLD_PHONE))
    bad = web.add("anna-1", "update_customer", {"phone": "12", "language": "en-GB"})
    newer = web.add("anna-1", "update_customer", {"phone": NEWER_PHONE})
    assert run(["run-jobs"]) == 0
    ids = op_ids(workspace)
    return {"create": ids[create], "bad": ids[bad], "newer": ids[newer]}


def show_json(cli: Invoke, op_id: int) -> dict[str, Any]:
    result = cli("show", str(op_id), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def test_old_is_hq_now_and_the_newer_field_is_a_conflict(
    stale: dict[str, int], cli: Invoke
) -> None:
    detail = show_json(cli, stale["bad"])
    assert detail["status"] == "failed"
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["phone"]["old"] == NEWER_PHONE
    assert fields["language"]["old"] == "sv-SE"
    assert detail["conflicts"] == [{"field": "phone", "kept_from_operation": stale["newer"]}]
    assert f"phone from {NEWER_PHONE} to 12" in detail["change_description"]


def test_the_grid_marks_the_conflict_and_says_what_a_resync_keeps(
    stale: dict[str, int], cli: Invoke
) -> None:
    newer = stale["newer"]
    out = cli("show", str(stale["bad"])).stdout
    assert "old (HQ now)" in out and "HQ before" not in out
    phone = next(line for line in out.splitlines() if line.startswith("phone "))
    assert NEWER_PHONE in phone
    assert OLD_PHONE not in out
    assert f"newer in op {newer}" in phone
    language = next(line for line in out.splitlines() if line.startswith("language "))
    assert "newer in op" not in language
    said = f"phone: changed by operation {newer} after this one; a resync keeps that value"
    assert f"{said} unless --force" in out.splitlines()


def test_the_resync_keeps_what_show_announced(stale: dict[str, int], cli: Invoke) -> None:
    bad = str(stale["bad"])
    announced = show_json(cli, stale["bad"])["conflicts"]
    assert cli("edit", bad, "--set", "phone=+46 70 444 44 44", "--reason", "valid").exit_code == 0
    assert show_json(cli, stale["bad"])["conflicts"] == announced
    result = cli("resync", bad, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()["operations"][0]
    assert [(c["field"], c["kept_from_operation"]) for c in report["conflicts"]] == [
        (c["field"], c["kept_from_operation"]) for c in announced
    ]
    detail = show_json(cli, stale["bad"])
    assert detail["conflicts"] == []  # synced: nothing is ahead any more
    synced = next(e for e in detail["history"] if e["action"] == "synced")
    assert synced["details"]["fields"] == ["language", "phone"]
    history = cli("show", bad).stdout
    assert f"applied language; kept phone (newer value from operation {stale['newer']})" in history


def test_a_synced_or_created_operation_has_no_conflicts(stale: dict[str, int], cli: Invoke) -> None:
    assert show_json(cli, stale["create"])["conflicts"] == []
    assert show_json(cli, stale["newer"])["conflicts"] == []
    synced = cli("show", str(stale["newer"])).stdout
    assert "old (HQ before)" in synced and "HQ now" not in synced


def test_pulled_history_says_1_field(workspace: Workspace, cli: Invoke) -> None:
    web = workspace.channel("web-se")
    web.add("anna-1", "create_customer", person())
    web.add("anna-1", "update_customer", {"phone": NEWER_PHONE})
    assert run(["run-jobs"]) == 0
    out = cli("show", str(max(op_ids(workspace).values()))).stdout
    assert "counter 2, 1 field" in out
    assert "1 fields" not in out
