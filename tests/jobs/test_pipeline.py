"""The three jobs against real channel databases: apply, block, release, fail, distribute."""

from __future__ import annotations

import sqlite3
from typing import Any

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.jobs.sync import sync
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.database import open_store
from tests.helpers import Workspace, address, person

GUID_A = "6f1c1d4e-0000-4000-8000-00000000000a"
GUID_B = "6f1c1d4e-0000-4000-8000-00000000000b"
GUID_C = "6f1c1d4e-0000-4000-8000-00000000000c"


def ops(ws: Workspace) -> dict[int, dict[str, Any]]:
    conn = ws.store()
    rows = {
        row["replication_counter"]: dict(row)
        for row in conn.execute("SELECT * FROM operations WHERE channel = 'web-se'")
    }
    conn.close()
    return rows


def errors_of(ws: Workspace, counter: int) -> list[tuple[str, str]]:
    conn = ws.store()
    rows = conn.execute(
        "SELECT e.field, e.code FROM operation_errors e JOIN operations o ON o.id = e.operation_id"
        " WHERE o.replication_counter = ? AND o.channel = 'web-se'",
        (counter,),
    ).fetchall()
    conn.close()
    return [(r[0], r[1]) for r in rows]


def test_creates_updates_and_addresses_reach_hq_and_the_channel(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    c1 = web.add(GUID_A, "create_customer", person())
    c2 = web.add(GUID_A, "create_address", address())
    c3 = web.add(GUID_A, "update_customer", {"phone": "+46 70 999 88 77"})
    c4 = web.add(GUID_B, "create_customer", person("Erik", "Lund"))
    result = cli("run-jobs")
    assert result.exit_code == 0, result.stderr
    assert "pulled 4, synced 4, failed 0, blocked 0, distributed 4" in result.stderr
    rows = ops(workspace)
    assert {rows[c]["status"] for c in (c1, c2, c3, c4)} == {"synced"}
    assert rows[c1]["customer_account"] == "C000001"
    assert rows[c4]["customer_account"] == "C000002"
    assert rows[c3]["customer_account"] == "C000001"
    assert all(rows[c]["distributed_at"] for c in (c1, c2, c3, c4))
    conn = workspace.store()
    customer = conn.execute("SELECT * FROM customers WHERE account = 'C000001'").fetchone()
    assert customer["phone"] == "+46 70 999 88 77"
    assert customer["async_account"] == GUID_A
    old_phone = conn.execute(
        "SELECT json_extract(old_values, '$.phone'), json_extract(new_values, '$.phone')"
        " FROM operations WHERE id = ?",
        (rows[c3]["id"],),
    ).fetchone()
    assert tuple(old_phone) == ("+46 70 123 45 67", "+46 70 999 88 77")
    conn.close()
    channel = web.customers()
    assert channel[GUID_A]["customer_account"] == "C000001"
    record = channel[GUID_A]["record"]
    assert record["phone"] == "+46 70 999 88 77"
    assert record["addresses"][0]["street"] == "Drottninggatan 1"
    assert channel[GUID_B]["customer_account"] == "C000002"


def test_repull_never_duplicates(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person())
    assert cli("run-jobs").exit_code == 0
    assert cli("run-jobs").exit_code == 0
    conn = workspace.store()
    conn.execute("DELETE FROM channel_watermarks")
    conn.commit()
    conn.close()
    web.add(GUID_B, "create_customer", person("Erik", "Lund"))
    result = cli("run-jobs")
    assert result.exit_code == 0
    assert "pulled 1," in result.stderr
    conn = workspace.store()
    assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
    conn.close()


def test_dependants_block_behind_a_failed_create_and_are_released(
    workspace: Workspace, cli
) -> None:
    web = workspace.channel("web-se")
    c1 = web.add(GUID_A, "create_customer", person(email="anna@"))
    c2 = web.add(GUID_A, "update_customer", {"phone": "+46 70 111 22 33"})
    c3 = web.add(GUID_A, "create_address", address())
    c4 = web.add(GUID_A, "update_address", {"address_id": "A1", "city": "Uppsala"})
    assert cli("run-jobs").exit_code == 0
    rows = ops(workspace)
    assert rows[c1]["status"] == "failed"
    assert errors_of(workspace, c1) == [("email", "invalid_email")]
    assert rows[c1]["last_error"] == "email 'anna@' is not a valid address"
    for counter in (c2, c3, c4):
        assert rows[counter]["status"] == "blocked"
        assert rows[counter]["blocked_by"] == rows[c1]["id"]
        assert f"waits for operation {rows[c1]['id']}" in rows[counter]["last_error"]
    assert web.customers() == {}

    # An operator's repair of the create, then a sync of just that operation.
    conn = workspace.store()
    conn.execute(
        "UPDATE operations SET new_values = json_set(new_values, '$.email', 'anna@example.se')"
        " WHERE id = ?",
        (rows[c1]["id"],),
    )
    conn.execute("UPDATE operations SET status = 'pending' WHERE id = ?", (rows[c1]["id"],))
    conn.commit()
    conn.close()
    config = load_config(workspace.config_path)
    with open_store(config.store) as store:
        result = sync(JobContext(config=config, store=store, actor="tester"), only={rows[c1]["id"]})
    assert result.synced == 4 and result.released >= 2
    rows = ops(workspace)
    assert [rows[c]["status"] for c in (c1, c2, c3, c4)] == ["synced"] * 4
    assert rows[c4]["customer_account"] == "C000001"
    conn = workspace.store()
    city = conn.execute("SELECT city FROM addresses WHERE address_id = 'A1'").fetchone()[0]
    assert city == "Uppsala"
    released = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'released'").fetchone()
    assert released[0] == 3  # all three waited for the customer create
    conn.close()


def test_sequence_exhaustion_fails_with_the_sequence_named_and_the_job_goes_on(
    workspace: Workspace, cli
) -> None:
    workspace.write_config(sequence={"name": "web_accounts", "prefix": "W", "width": 3, "last": 2})
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person())
    web.add(GUID_B, "create_customer", person("Erik", "Lund"))
    c3 = web.add(GUID_C, "create_customer", person("Karin", "Berg"))
    c4 = web.add(GUID_A, "update_customer", {"phone": "+46 70 444 55 66"})
    assert cli("run-jobs").exit_code == 0
    rows = ops(workspace)
    assert rows[c3]["status"] == "failed"
    assert errors_of(workspace, c3) == [("customer_account", "sequence_exhausted")]
    assert "number sequence 'web_accounts'" in rows[c3]["last_error"]
    assert "W002" in rows[c3]["last_error"]
    assert rows[c4]["status"] == "synced"
    assert rows[c4]["customer_account"] == "W001"


def test_update_of_a_customer_hq_never_saw_fails(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    c1 = web.add(GUID_A, "update_customer", {"phone": "+46 70 111 22 33"})
    c2 = web.add(GUID_B, "create_customer", person())
    c3 = web.add(GUID_B, "update_address", {"address_id": "NOPE", "city": "Lund"})
    c4 = web.add(GUID_B, "create_address", address("A1"))
    c5 = web.add(GUID_B, "create_address", address("A1"))
    assert cli("run-jobs").exit_code == 0
    rows = ops(workspace)
    assert errors_of(workspace, c1) == [("async_account", "unknown_customer")]
    assert rows[c2]["status"] == "synced"
    assert errors_of(workspace, c3) == [("address_id", "unknown_address")]
    assert rows[c4]["status"] == "synced"
    assert errors_of(workspace, c5) == [("address_id", "address_exists")]


def test_duplicate_email_fails_or_warns_per_config(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person(email="same@example.se"))
    c2 = web.add(GUID_B, "create_customer", person("Erik", "Lund", email="SAME@example.se"))
    assert cli("run-jobs").exit_code == 0
    assert errors_of(workspace, c2) == [("email", "duplicate_email")]
    assert "possible duplicate of C000001" in ops(workspace)[c2]["last_error"]

    workspace.write_config(validation={"duplicate_email": "warn"})
    c3 = web.add(GUID_C, "create_customer", person("Karin", "Berg", email="same@example.se"))
    assert cli("run-jobs").exit_code == 0
    assert ops(workspace)[c3]["status"] == "synced"
    conn = workspace.store()
    warning = conn.execute("SELECT details FROM audit_log WHERE action = 'warning'").fetchone()
    assert "duplicate_email" in warning[0]
    conn.close()


def test_stale_resync_does_not_overwrite_a_newer_value_unless_forced(
    workspace: Workspace, cli
) -> None:
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person())
    older = web.add(GUID_A, "update_customer", {"phone": "12", "last_name": "Old"})
    newer = web.add(GUID_A, "update_customer", {"last_name": "Newer"})
    assert cli("run-jobs").exit_code == 0
    rows = ops(workspace)
    assert rows[older]["status"] == "failed" and rows[newer]["status"] == "synced"
    older_id = rows[older]["id"]
    conn = workspace.store()
    conn.execute(
        "UPDATE operations SET new_values = json_set(new_values, '$.phone', '+46 70 222 33 44')"
        " WHERE id = ?",
        (older_id,),
    )
    conn.execute("UPDATE operations SET status = 'pending' WHERE id = ?", (older_id,))
    conn.commit()
    conn.close()
    config = load_config(workspace.config_path)
    with open_store(config.store) as store:
        result = sync(JobContext(config=config, store=store, actor="tester"), only={older_id})
    assert result.conflicts[older_id] == [
        {"field": "last_name", "kept_from_operation": rows[newer]["id"]}
    ]
    conn = workspace.store()
    customer = conn.execute("SELECT last_name, phone FROM customers").fetchone()
    assert tuple(customer) == ("Newer", "+46 70 222 33 44")
    conn.close()


def test_malformed_rows_are_reported_and_the_channel_goes_on(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    bad_json = web.add(GUID_A, "create_customer", "{not json")
    bad_type = web.add(GUID_B, "delete_customer", {"email": "x@example.se"})
    nested = web.add(GUID_C, "create_customer", person(phone=["+46", "70"]))
    good = web.add("6f1c1d4e-0000-4000-8000-00000000000d", "create_customer", person())
    assert cli("run-jobs").exit_code == 0
    rows = ops(workspace)
    assert errors_of(workspace, bad_json) == [("fields", "malformed_row")]
    assert errors_of(workspace, bad_type) == [("operation", "invalid_operation")]
    assert errors_of(workspace, nested) == [("phone", "invalid_value")]
    assert rows[good]["status"] == "synced"
    assert cli("run-jobs", "--strict").exit_code == 0  # nothing new failed in this run


def test_strict_exits_4_when_a_run_has_failures(workspace: Workspace, cli) -> None:
    workspace.channel("web-se").add(GUID_A, "create_customer", person(email="bad@"))
    result = cli("run-jobs", "--strict")
    assert result.exit_code == 4


def test_a_hostile_channel_is_skipped_and_the_others_proceed(workspace: Workspace, cli) -> None:
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person())
    evil = workspace.channel("evil")
    evil.add(GUID_B, "create_customer", person("Erik", "Lund"))
    conn = sqlite3.connect(evil.path)
    conn.execute(
        "CREATE TRIGGER spy AFTER INSERT ON customer BEGIN"
        " DELETE FROM async_customer_operation; END"
    )
    conn.commit()
    conn.close()
    result = cli("run-jobs")
    assert result.exit_code == 0
    assert "skipped channel(s): evil" in result.stderr
    assert "triggers or views (spy)" in result.stderr
    store = workspace.store()
    assert [r[0] for r in store.execute("SELECT channel FROM operations")] == ["web-se"]
    run = store.execute(
        "SELECT outcome, skipped_channels FROM job_runs WHERE job = 'pull'"
    ).fetchone()
    assert run["outcome"] == "partial" and "evil" in run["skipped_channels"]
    store.close()


def test_single_job_and_channel_options(workspace: Workspace, cli) -> None:
    workspace.channel("web-se").add(GUID_A, "create_customer", person())
    workspace.channel("store-042").add(GUID_B, "create_customer", person("Erik", "Lund"))
    assert cli("run-jobs", "--job", "pull", "--channel", "store-042").exit_code == 0
    conn = workspace.store()
    assert [tuple(r) for r in conn.execute("SELECT channel, status FROM operations")] == [
        ("store-042", "pending")
    ]
    conn.close()
    assert cli("run-jobs", "--job", "sync").exit_code == 0
    assert cli("run-jobs", "--job", "distribute").exit_code == 0
    assert workspace.channels["store-042"].customers()[GUID_B]["customer_account"] == "C000001"
    result = cli("run-jobs", "--channel", "nowhere")
    assert result.exit_code == 2
    assert "unknown channel 'nowhere'" in result.stderr


def test_every_status_change_is_audited_and_each_job_run_recorded(
    workspace: Workspace, cli
) -> None:
    web = workspace.channel("web-se")
    web.add(GUID_A, "create_customer", person(email="bad@"))
    web.add(GUID_A, "update_customer", {"phone": "+46 70 111 22 33"})
    web.add(GUID_B, "create_customer", person("Erik", "Lund"))
    assert cli("run-jobs").exit_code == 0
    conn = workspace.store()
    actions = [
        tuple(r) for r in conn.execute("SELECT operation_id, action FROM audit_log ORDER BY id")
    ]
    assert actions == [
        (1, "pulled"),
        (2, "pulled"),
        (3, "pulled"),
        (1, "sync_failed"),
        (2, "blocked"),
        (3, "synced"),
        (3, "distributed"),
    ]
    assert {r[0] for r in conn.execute("SELECT DISTINCT actor FROM audit_log")} == {"tester"}
    runs = [
        tuple(r) for r in conn.execute("SELECT job, outcome, pulled, synced, failed FROM job_runs")
    ]
    assert runs == [("pull", "ok", 3, 0, 0), ("sync", "ok", 0, 1, 1), ("distribute", "ok", 0, 0, 0)]
    assert verify_chain(conn).ok
    conn.close()
