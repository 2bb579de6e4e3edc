"""``custsync resync``: sync just the repaired operations now, conflicts, --force, --dry-run."""

from __future__ import annotations

import os

from custsync_cli.store.lock import run_lock
from tests.conftest import Invoke
from tests.helpers import Workspace
from tests.repair import scenarios as sc

OUTCOME_KEYS = [
    "id",
    "operation",
    "channel",
    "async_account",
    "customer_account",
    "status",
    "errors",
    "conflicts",
    "waits_for",
    "released_by",
    "distributed",
]


def fix_anna(cli: Invoke, chain: sc.Chain) -> None:
    fixed = cli("edit", str(chain.create), "--set", "email=anna@example.se", "--reason", "typo")
    assert fixed.exit_code == 0, fixed.stderr


def test_resync_syncs_distributes_and_releases(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    fix_anna(cli, chain)
    result = cli("resync", str(chain.create))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(f"{chain.create} ") and "synced" in line and "distributed to web-se" in line
        for line in lines
    )
    assert any(f"released by {chain.create}" in line for line in lines)
    assert "resync: 2 synced" in result.stderr
    account = sc.customer(workspace, sc.ANNA)
    assert account is not None and account["email"] == "anna@example.se"
    channel = workspace.channel("web-se").customers()[sc.ANNA]
    assert channel["customer_account"] == account["account"]
    assert channel["record"]["email"] == "anna@example.se"
    assert sc.operation(workspace, chain.update)["status"] == "synced"


def test_still_failing_exits_4_with_the_errors(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli("resync", str(chain.create), "--format", "json")
    assert result.exit_code == 4
    data = result.json()
    assert list(data) == [
        "dry_run", "forced", "all_synced", "counts", "operations", "skipped_channels",
    ]  # fmt: skip
    assert data["dry_run"] is False and data["all_synced"] is False
    assert data["counts"] == {"failed": 1}
    (outcome,) = data["operations"]
    assert list(outcome) == OUTCOME_KEYS
    assert outcome["id"] == chain.create and outcome["status"] == "failed"
    assert outcome["errors"] == [
        {
            "field": "email",
            "code": "invalid_email",
            "message": "email 'anna.svensson@' is not a valid address",
        }
    ]
    assert sc.operation(workspace, chain.create)["attempts"] == 2
    assert sc.operation(workspace, chain.update)["status"] == "blocked"


def test_conflict_is_reported_and_the_newer_value_kept(workspace: Workspace, cli: Invoke) -> None:
    case = sc.conflict(workspace)
    cli("edit", str(case.older), "--set", "phone=+46 70 111 22 33", "--reason", "number")
    result = cli("resync", str(case.older), "--format", "json")
    assert result.exit_code == 0, result.stderr
    (outcome,) = result.json()["operations"]
    assert outcome["status"] == "synced"
    assert outcome["conflicts"] == [
        {
            "field": "email",
            "wanted": "maja.old@example.se",
            "kept": "maja.new@example.se",
            "kept_from_operation": case.newer,
        }
    ]
    maja = sc.customer(workspace, sc.MAJA)
    assert maja is not None and maja["email"] == "maja.new@example.se"
    assert maja["phone"] == "+46 70 111 22 33"
    assert sc.fields(workspace, case.older)["email"]["conflict_with"] == case.newer


def test_conflict_table_and_force(workspace: Workspace, cli: Invoke) -> None:
    case = sc.conflict(workspace)
    cli("edit", str(case.older), "--set", "phone=+46 70 111 22 33", "--reason", "number")
    preview = cli("resync", str(case.older), "--dry-run")
    assert preview.exit_code == 0
    assert (
        f"conflict: email kept 'maja.new@example.se' from newer operation {case.newer},"
        " not 'maja.old@example.se'" in preview.stdout
    )
    assert "--force" in preview.stderr
    forced = cli("resync", str(case.older), "--force", "--format", "json")
    assert forced.exit_code == 0
    assert forced.json()["forced"] is True
    assert forced.json()["operations"][0]["conflicts"] == []
    maja = sc.customer(workspace, sc.MAJA)
    assert maja is not None and maja["email"] == "maja.old@example.se"
    (event,) = sc.events(workspace, case.older, "resync_requested")
    assert event["details"] == {"force": True, "from_status": "failed"}


def test_dry_run_changes_nothing(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    fix_anna(cli, chain)
    before = sc.dump(workspace)
    audit_count = len(sc.events(workspace))
    result = cli("resync", str(chain.create), "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["dry_run"] is True and data["all_synced"] is True
    assert {o["id"]: o["status"] for o in data["operations"]} == {
        chain.create: "synced",
        chain.update: "synced",
    }
    assert sc.dump(workspace) == before
    assert len(sc.events(workspace)) == audit_count
    assert sc.operation(workspace, chain.create)["status"] == "failed"
    assert sc.operation(workspace, chain.update)["status"] == "blocked"
    assert sc.customer(workspace, sc.ANNA) is None
    assert sc.ANNA not in workspace.channel("web-se").customers()
    still_bad = cli("resync", str(chain.erik + 99), "--dry-run")
    assert still_bad.exit_code == 3


def test_dry_run_of_a_still_failing_operation_exits_4(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    result = cli("resync", str(chain.create), "--dry-run")
    assert result.exit_code == 4
    assert "would be failed" in result.stdout and "not a valid address" in result.stdout
    assert "nothing was changed" in result.stderr
    assert sc.dump(workspace) == before


def test_resync_with_filters_needs_confirmation(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    fix_anna(cli, chain)
    before = sc.dump(workspace)
    refused = cli("resync", "--error-code", "invalid_email")
    assert refused.exit_code == 2
    assert "1 operation(s) match" in refused.stderr and "--yes" in refused.stderr
    assert sc.dump(workspace) == before
    previewed = cli("resync", "--error-code", "invalid_email", "--dry-run")
    assert previewed.exit_code == 0 and sc.dump(workspace) == before
    done = cli("resync", "--error-code", "invalid_email", "--yes", "--format", "json")
    assert done.exit_code == 0, done.stderr
    assert [o["id"] for o in done.json()["operations"]] == [chain.create, chain.update]
    nothing = cli("resync", "--error-code", "invalid_email", "--yes", "--format", "json")
    assert nothing.exit_code == 0 and "nothing to resync" in nothing.stderr
    assert nothing.json()["operations"] == [] and nothing.json()["all_synced"] is True


def test_resync_refusals(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    synced = cli("resync", str(chain.erik))
    assert synced.exit_code == 1 and "is synced" in synced.stderr
    missing = cli("resync", "4242")
    assert missing.exit_code == 3 and "no operation 4242" in missing.stderr
    bare = cli("resync")
    assert bare.exit_code == 2 and "operation ids" in bare.stderr
    both = cli("resync", str(chain.create), "--status", "failed")
    assert both.exit_code == 2 and "not both" in both.stderr
    bad_where = cli("resync", "--where", "colour=red")
    assert bad_where.exit_code == 2 and "valid fields" in bad_where.stderr
    with run_lock(workspace.store_path, purpose="run-jobs"):
        locked = cli("resync", str(chain.create))
        locked_preview = cli("resync", str(chain.create), "--dry-run")
    assert locked_preview.exit_code == 75
    assert locked.exit_code == 75
    assert f"pid {os.getpid()}, run-jobs since" in locked.stderr
    assert sc.dump(workspace) == before


def test_a_blocked_operation_reports_what_it_waits_for(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli("resync", str(chain.update))
    assert result.exit_code == 4
    assert f"waits for operation {chain.create}" in result.stdout
    assert sc.operation(workspace, chain.update)["status"] == "blocked"


def test_wait_outlasts_a_short_run(workspace: Workspace, cli: Invoke) -> None:
    import threading

    chain = sc.failed_chain(workspace)
    fix_anna(cli, chain)
    held = threading.Event()

    def hold() -> None:
        with run_lock(workspace.store_path, purpose="run-jobs"):
            held.set()
            threading.Event().wait(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    result = cli("resync", str(chain.create), "--wait", "10")
    holder.join()
    assert result.exit_code == 0, result.stderr
    assert sc.operation(workspace, chain.create)["status"] == "synced"


def test_edit_verdict_names_the_fields_a_resync_then_keeps(
    workspace: Workspace, cli: Invoke
) -> None:
    case = sc.conflict(workspace)
    edited = cli("edit", str(case.older), "--set", "phone=+46 70 111 22 33", "--reason", "number")
    assert edited.exit_code == 0, edited.stderr
    assert (
        f"would now pass validation; a resync keeps the newer email (changed by operation"
        f" {case.newer}) unless forced"
    ) in edited.stdout
    verdict = cli(
        "edit",
        str(case.older),
        "--set",
        "phone=+46 70 111 22 34",
        "--reason",
        "r",
        "--format",
        "json",
    ).json()
    predicted = verdict["conflicts"]
    resynced = cli("resync", str(case.older), "--format", "json").json()["operations"][0]
    assert predicted == [
        {"field": c["field"], "kept_from_operation": c["kept_from_operation"]}
        for c in resynced["conflicts"]
    ]
    assert predicted == [{"field": "email", "kept_from_operation": case.newer}]
