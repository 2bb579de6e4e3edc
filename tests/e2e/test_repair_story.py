"""The whole repair story, as an operator runs it: the installed command, real subprocesses."""

from __future__ import annotations

import json

from tests.helpers import Workspace, person

ANNA = "0b7e5c2a-1d3f-4c5e-9a7b-3c2d1e0f9a8b"


def test_a_failed_create_is_found_shown_edited_and_resynced(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add(ANNA, "create_customer", person(email="anna.svensson@exmaple"), created_by="u-1043")
    web.add(ANNA, "update_customer", {"phone": "+46 70 555 12 34"}, created_by="u-1043")

    jobs = workspace.run("run-jobs")
    assert jobs.returncode == 0, jobs.stderr
    assert web.customers().get(ANNA, {}).get("customer_account") is None

    listed = workspace.run("list", "--status", "failed", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (failed,) = json.loads(listed.stdout)
    assert failed["operation"] == "create_customer" and failed["async_account"] == ANNA
    assert failed["errors"][0]["code"] == "invalid_email"
    create = failed["id"]
    blocked = json.loads(workspace.run("list", "--status", "blocked", "--format", "json").stdout)
    (update,) = [op["id"] for op in blocked]

    shown = workspace.run("show", str(create), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    email = next(f for f in detail["fields"] if f["name"] == "email")
    assert email["new"] == "anna.svensson@exmaple"

    edited = workspace.run(
        "edit",
        str(create),
        "--set",
        "email=anna.svensson@example.se",
        "--reason",
        "customer confirmed the address at the till",
    )
    assert edited.returncode == 0, edited.stderr
    assert "would now pass validation" in edited.stdout

    resynced = workspace.run("resync", str(create), "--format", "json")
    assert resynced.returncode == 0, resynced.stderr
    report = json.loads(resynced.stdout)
    assert {o["id"]: o["status"] for o in report["operations"]} == {
        create: "synced",
        update: "synced",
    }

    for op in (create, update):
        final = json.loads(workspace.run("show", str(op), "--format", "json").stdout)
        assert final["status"] == "synced"
    account = report["operations"][0]["customer_account"]
    customer = json.loads(workspace.run("customer", "show", account, "--format", "json").stdout)
    text = json.dumps(customer)
    assert "anna.svensson@example.se" in text and "+46 70 555 12 34" in text
    conn = workspace.store()
    row = conn.execute(
        "SELECT email, phone FROM customers WHERE account = ?", (account,)
    ).fetchone()
    conn.close()
    assert tuple(row) == ("anna.svensson@example.se", "+46 70 555 12 34")
    channel = web.customers()[ANNA]
    assert channel["customer_account"] == account
    assert channel["record"]["email"] == "anna.svensson@example.se"

    history = [e["action"] for e in final_history(workspace, create)]
    assert history[:2] == ["pulled", "sync_failed"]
    assert {"edited", "resync_requested", "synced", "distributed"} <= set(history)
    verified = workspace.run("audit", "verify")
    assert verified.returncode == 0, verified.stderr


def final_history(workspace: Workspace, op: int) -> list[dict[str, object]]:
    shown = workspace.run("show", str(op), "--format", "json")
    history: list[dict[str, object]] = json.loads(shown.stdout)["history"]
    return history
