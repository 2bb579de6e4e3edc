"""``custsync discard``: give up on operations, audited; nothing waits behind a discarded create."""

from __future__ import annotations

from tests.conftest import Invoke
from tests.helpers import Workspace
from tests.repair import scenarios as sc


def test_discard_fails_what_waited_for_the_create(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli("discard", str(chain.create), "--reason", "test customer from training")
    assert result.exit_code == 0, result.stderr
    assert f"discarded operation {chain.create} (create_customer, was failed)" in result.stdout
    assert f"operation {chain.update} failed: it waited for {chain.create}" in result.stdout
    discarded = sc.operation(workspace, chain.create)
    assert discarded["status"] == "discarded"
    assert discarded["discard_reason"] == "test customer from training"
    update = sc.operation(workspace, chain.update)
    assert update["status"] == "failed"
    assert f"operation {chain.create} (create_customer)" in update["last_error"]
    (event,) = sc.events(workspace, chain.create, "discarded")
    assert event["actor"] == "tester"
    assert event["details"] == {"reason": "test customer from training", "from_status": "failed"}
    listed = cli("list", "--error-code", "dependency_discarded", "--format", "json")
    assert [op["id"] for op in listed.json()] == [chain.update]


def test_discard_json_and_several_operations(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli(
        "discard", str(chain.update), str(chain.create), "--reason", "duplicate", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json() == [
        {
            "id": chain.create,
            "operation": "create_customer",
            "previous_status": "failed",
            "status": "discarded",
            "failed_dependants": [],
        },
        {
            "id": chain.update,
            "operation": "update_customer",
            "previous_status": "blocked",
            "status": "discarded",
            "failed_dependants": [],
        },
    ]


def test_a_later_update_of_a_discarded_create_fails_on_the_next_run(
    workspace: Workspace, cli: Invoke
) -> None:
    chain = sc.failed_chain(workspace)
    assert cli("discard", str(chain.create), "--reason", "gone").exit_code == 0
    workspace.channel("web-se").add(sc.ANNA, "update_customer", {"phone": "+46 8 55 66 77"})
    sc.run_jobs(workspace)
    late = sc.op_id(workspace, sc.ANNA, "update_customer", 1)
    assert sc.operation(workspace, late)["status"] == "failed"
    conn = workspace.store()
    (code,) = conn.execute(
        "SELECT code FROM operation_errors WHERE operation_id = ?", (late,)
    ).fetchone()
    conn.close()
    assert code == "dependency_discarded"


def test_discard_refusals_change_nothing(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    synced = cli("discard", str(chain.erik), "--reason", "no")
    assert synced.exit_code == 1
    assert f"operation {chain.erik} is synced" in synced.stderr
    no_reason = cli("discard", str(chain.create))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    missing = cli("discard", "777", "--reason", "r")
    assert missing.exit_code == 3
    mixed = cli("discard", str(chain.create), str(chain.erik), "--reason", "r")
    assert mixed.exit_code == 1
    not_a_number = cli("discard", "twelve", "--reason", "r")
    assert not_a_number.exit_code == 2
    assert sc.dump(workspace) == before
    assert cli("discard", str(chain.create), "--reason", "r").exit_code == 0
    again = cli("discard", str(chain.create), "--reason", "r")
    assert again.exit_code == 1 and "is discarded" in again.stderr
