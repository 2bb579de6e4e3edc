"""``custsync link``: a duplicate-email create ends synced onto the existing customer."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.helpers import Workspace, address, person

WEB = "web-anna"
TILL = "till-anna"


@pytest.fixture
def duplicate(workspace: Workspace) -> Workspace:
    """Anna signed up at the till (synced), then online with the same email: that create
    failed as a duplicate, its address and update are blocked behind it."""
    till, web = workspace.channel("store-042"), workspace.channel("web-se")
    till.add(TILL, "create_customer", person(phone="+46 70 111 11 11"))
    assert workspace.run("run-jobs").returncode == 0
    web.add(WEB, "create_customer", person(phone="+46 70 222 22 22"))
    web.add(WEB, "create_address", address("HOME", city="Piteå"))
    web.add(WEB, "update_customer", {"customer_group": "online"})
    assert workspace.run("run-jobs").returncode == 0
    return workspace


def ops(ws: Workspace) -> dict[str, dict[str, object]]:
    rows = json.loads(ws.run("list", "--async-account", WEB, "--format", "json").stdout)
    return {op["operation"]: op for op in rows}


def snapshot(ws: Workspace) -> tuple[list[tuple[object, ...]], ...]:
    conn = sqlite3.connect(ws.store_path)
    try:
        return tuple(
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("operations", "customers", "addresses", "audit_log")
        )
    finally:
        conn.close()


def test_the_link_story(duplicate: Workspace) -> None:
    ws = duplicate
    before = ops(ws)
    create = before["create_customer"]
    assert create["status"] == "failed" and create["errors"][0]["code"] == "duplicate_email"
    assert before["create_address"]["status"] == "blocked"
    assert before["update_customer"]["status"] == "blocked"
    account = ws.channels["store-042"].customers()[TILL]["customer_account"]

    shown = ws.run("show", str(create["id"]))
    hint = f"custsync link {create['id']} --to {account} --reason"
    assert f"next: {hint}" in shown.stdout
    assert "anna.svensson@example.se" not in shown.stdout.split("next:")[1].splitlines()[0]

    frozen = snapshot(ws)
    dry = ws.run("link", str(create["id"]), "--to", account, "--reason", "same", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would link operation {create['id']}" in dry.stdout
    assert "phone" in dry.stdout and "'+46 70 111 11 11'" in dry.stdout
    assert snapshot(ws) == frozen

    done = ws.run(
        "link", str(create["id"]), "--to", account, "--reason", "till and web", "--resync",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["customer_account"] == account
    assert result["released"] == [before["create_address"]["id"], before["update_customer"]["id"]]
    assert {d["field"]: (d["hq"], d["operation"], d["applied"]) for d in result["differences"]} == {
        "phone": ("+46 70 111 11 11", "+46 70 222 22 22", False)
    }
    assert result["resync"]["all_synced"] is True

    after = ops(ws)
    assert {kind: op["status"] for kind, op in after.items()} == dict.fromkeys(after, "synced")
    assert {op["customer_account"] for op in after.values()} == {account}
    assert ws.channels["web-se"].customers()[WEB]["customer_account"] == account
    customer = json.loads(ws.run("customer", "show", account, "--format", "json").stdout)
    text = json.dumps(customer, ensure_ascii=False)
    assert "Piteå" in text and "online" in text and "+46 70 111 11 11" in text
    conn = sqlite3.connect(ws.store_path)
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    conn.close()

    verify = ws.run("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    shown = json.loads(ws.run("show", str(create["id"]), "--format", "json").stdout)
    assert f"Linked to existing customer {account} by tester" in shown["change_description"]
    assert shown["link_hint"] is None
    linked = json.loads(ws.run("audit", "--action", "linked", "--format", "json").stdout)
    assert [(e["operation_id"], e["actor"]) for e in linked] == [(create["id"], "tester")]
    # A later update of the web customer lands on the existing customer.
    ws.channels["web-se"].add(WEB, "update_customer", {"language": "en-GB"})
    assert ws.run("run-jobs").returncode == 0
    customer = json.loads(ws.run("customer", "show", account, "--format", "json").stdout)
    assert "en-GB" in json.dumps(customer)
    assert ws.run("audit", "verify").returncode == 0


def test_apply_fields_applies_the_differing_values_audited(duplicate: Workspace) -> None:
    ws = duplicate
    create = ops(ws)["create_customer"]
    account = ws.channels["store-042"].customers()[TILL]["customer_account"]
    done = ws.run(
        "link", str(create["id"]), "--to", account, "--reason", "web phone is newer",
        "--apply-fields",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "applied" in done.stdout
    customer = json.loads(ws.run("customer", "show", account, "--format", "json").stdout)
    assert "+46 70 222 22 22" in json.dumps(customer)
    assert ws.run("run-jobs").returncode == 0
    assert ws.run("audit", "verify").returncode == 0
    assert ws.channels["web-se"].customers()[WEB]["customer_account"] == account


def test_apply_fields_that_would_fail_links_nothing(duplicate: Workspace) -> None:
    ws = duplicate
    create = ops(ws)["create_customer"]
    ws.run("edit", str(create["id"]), "--set", "phone=not a phone", "--reason", "r")
    account = ws.channels["store-042"].customers()[TILL]["customer_account"]
    frozen = snapshot(ws)
    args = ("link", str(create["id"]), "--to", account, "--reason", "r", "--apply-fields")
    done = ws.run(*args)
    assert done.returncode == 1
    assert "nothing was linked" in done.stderr and len(done.stderr.splitlines()) == 1
    assert snapshot(ws) == frozen


def test_refusals_change_nothing(duplicate: Workspace) -> None:
    ws = duplicate
    current = ops(ws)
    till_ops = json.loads(ws.run("list", "--async-account", TILL, "--format", "json").stdout)
    synced_create = till_ops[0]["id"]
    account = ws.channels["store-042"].customers()[TILL]["customer_account"]
    frozen = snapshot(ws)
    cases = [
        ((str(synced_create), "--to", account), 1, "only a failed create_customer"),
        ((str(current["update_customer"]["id"]), "--to", account), 1, "is a blocked"),
        ((str(current["create_customer"]["id"]), "--to", "C999999"), 3, "no HQ customer C999999"),
        (("999999", "--to", account), 3, "no operation 999999"),
    ]
    for args, code, says in cases:
        done = ws.run("link", *args, "--reason", "r")
        assert done.returncode == code, (args, done.stderr)
        assert says in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "anna" not in done.stderr.lower()
    no_reason = ws.run("link", str(current["create_customer"]["id"]), "--to", account)
    assert no_reason.returncode == 2
    assert snapshot(ws) == frozen
