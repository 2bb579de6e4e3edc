"""`custsync audit` lists the audit trail with filters; `audit verify` checks its hash chain."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from custsync_cli.store.audit import HASH_HEX_SQL
from tests.cli.conftest import Shop
from tests.conftest import Invoke

EVENT_KEYS = [
    "id",
    "at",
    "actor",
    "action",
    "operation_id",
    "customer_account",
    "channel",
    "details",
    "hash",
]


def events(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    result = cli("audit", "--format", "json", "--limit", "500", *args)
    assert result.exit_code == 0, result.stderr
    data: list[dict[str, Any]] = result.json()
    return data


def store_events(shop: Shop, where: str = "1", params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    with shop.store() as conn:
        return conn.execute(
            "SELECT id, at, actor, action, operation_id, customer_account, channel, details,"
            f" {HASH_HEX_SQL} FROM audit_log WHERE {where} ORDER BY id DESC",
            params,
        ).fetchall()


def test_lists_every_event_newest_first_with_contract_keys(shop: Shop, cli: Invoke) -> None:
    listed = events(cli)
    rows = store_events(shop)
    assert [e["id"] for e in listed] == [row["id"] for row in rows]
    first, row = listed[0], rows[0]
    assert list(first) == EVENT_KEYS
    for key in ("id", "at", "actor", "action", "operation_id", "customer_account", "channel"):
        assert first[key] == row[key]
    assert first["details"] == json.loads(row["details"])
    assert first["hash"] == row["hash"]


def test_op_filter_gives_the_operation_history(shop: Shop, cli: Invoke) -> None:
    listed = events(cli, "--op", str(shop.ids["bob_create"]))
    assert [e["action"] for e in listed] == ["sync_failed", "pulled"]
    assert listed[0]["details"]["errors"][0]["code"] == "invalid_email"
    assert all(e["operation_id"] == shop.ids["bob_create"] for e in listed)


def test_action_is_repeatable_and_actor_filters(shop: Shop, cli: Invoke) -> None:
    listed = events(cli, "--action", "blocked", "--action", "sync_failed")
    assert sorted(e["action"] for e in listed) == [
        "blocked",
        "sync_failed",
        "sync_failed",
        "sync_failed",
    ]
    assert len(events(cli, "--action", "pulled")) == len(shop.ids)
    assert len(events(cli, "--actor", "tester")) == len(store_events(shop))
    result = cli("audit", "--actor", "nobody", "--format", "json")
    assert result.json() == []
    assert "no audit events match" in result.stderr


def test_since_and_until(shop: Shop, cli: Invoke) -> None:
    total = len(store_events(shop))
    assert len(events(cli, "--since", "1h")) == total
    assert len(events(cli, "--since", "2026-01-01")) == total
    assert events(cli, "--until", "1h") == []
    assert len(events(cli, "--op", str(shop.ids["anna_create"]), "--since", "1d")) == 3
    bad = cli("audit", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "is not a time" in bad.stderr


def test_limit_and_offset_say_how_many_more(shop: Shop, cli: Invoke) -> None:
    ids = [row["id"] for row in store_events(shop)]
    page = cli("audit", "--format", "json", "--limit", "5", "--offset", "5")
    assert [e["id"] for e in page.json()] == ids[5:10]
    assert f"showing 6-10 of {len(ids)}; use --offset 10 for more" in page.stderr


def test_jsonl_and_csv(shop: Shop, cli: Invoke) -> None:
    lines = cli("audit", "--format", "jsonl", "--action", "pulled").stdout.splitlines()
    assert len(lines) == len(shop.ids)
    assert all(list(json.loads(line)) == EVENT_KEYS for line in lines)
    text = cli("audit", "--format", "csv", "--op", str(shop.ids["bob_update"])).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == EVENT_KEYS
    assert [r["action"] for r in rows] == ["blocked", "pulled"]
    assert json.loads(rows[0]["details"]) == {"waits_for": shop.ids["bob_create"]}


def test_table_summarises_details(shop: Shop, cli: Invoke) -> None:
    result = cli("audit", "--op", str(shop.ids["bob_update"]))
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0]
    for heading in ("event", "at (UTC)", "actor", "action", "operation", "details"):
        assert heading in header
    assert f"waits for operation {shop.ids['bob_create']}" in result.stdout
    assert "counter 5, 1 field" in result.stdout


def test_verify_reports_an_intact_chain(shop: Shop, cli: Invoke) -> None:
    total = len(store_events(shop))
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"audit chain ok: {total} events"
    as_json = cli("audit", "verify", "--format", "json")
    assert as_json.json() == {"ok": True, "events": total, "problem": None, "bad_event_id": None}


@pytest.fixture
def tampered(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shop whose store's audit log can be changed behind custsync's back."""
    root = tmp_path / "copy"
    shutil.copytree(shop.workspace.root, root)
    monkeypatch.setenv("CUSTSYNC_CONFIG", str(root / "custsync.yaml"))
    with sqlite3.connect(root / "custsync.db") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("DROP TRIGGER audit_log_no_delete")
    return root / "custsync.db"


def test_verify_names_an_edited_event(tampered: Path, cli: Invoke) -> None:
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "event 3 was changed" in result.stdout
    as_json = cli("audit", "verify", "--format", "json").json()
    assert as_json["ok"] is False
    assert as_json["bad_event_id"] == 3
    assert as_json["events"] == 2


def test_verify_names_a_removed_event(tampered: Path, cli: Invoke) -> None:
    with sqlite3.connect(tampered) as conn:
        conn.execute("DELETE FROM audit_log WHERE id = 5")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "event 5 is missing" in result.stdout


def test_verify_notices_events_cut_from_the_end(tampered: Path, cli: Invoke) -> None:
    with sqlite3.connect(tampered) as conn:
        last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE id > ?", (last - 3,))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "removed from the end" in result.stdout


def test_unknown_audit_subcommand_is_a_usage_error(shop: Shop, cli: Invoke) -> None:
    assert cli("audit", "fix").exit_code == 2


def test_installed_command_verifies_the_chain(shop: Shop) -> None:
    done = shop.workspace.run("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit chain ok: ")
    listed = shop.workspace.run("audit", "--action", "distributed", "--format", "jsonl")
    assert listed.returncode == 0
    assert all(json.loads(line)["action"] == "distributed" for line in listed.stdout.splitlines())


def test_head_prints_count_and_hash_of_the_last_event(shop: Shop, cli: Invoke) -> None:
    (last,) = store_events(shop, "id = (SELECT max(id) FROM audit_log)")
    plain = cli("audit", "head")
    assert plain.exit_code == 0, plain.stderr
    assert plain.stdout == f"{last['id']}:{last['hash']}\n"
    as_json = cli("audit", "head", "--format", "json").json()
    assert as_json == {
        "events": last["id"],
        "head_hash": last["hash"],
        "head": f"{last['id']}:{last['hash']}",
    }
    assert cli("audit", "verify", "--expect", plain.stdout.strip()).exit_code == 0
    older = store_events(shop, "id = 3")[0]
    assert cli("audit", "verify", "--expect", f"3:{older['hash'].upper()}").exit_code == 0


@pytest.mark.parametrize(
    "value", ["", "12", "abc:" + "0" * 64, "-1:" + "0" * 64, "12:" + "0" * 63, "12:" + "g" * 64]
)
def test_a_malformed_expected_head_is_a_usage_error(shop: Shop, cli: Invoke, value: str) -> None:
    with shop.store() as conn:
        before = conn.execute("SELECT count(*) FROM audit_anchors").fetchone()[0]
    result = cli("audit", "verify", "--expect", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "COUNT:HASH" in result.stderr and "Traceback" not in result.stderr
    with shop.store() as conn:
        assert conn.execute("SELECT count(*) FROM audit_anchors").fetchone()[0] == before


def test_a_head_the_chain_does_not_reach_fails_verify(shop: Shop, cli: Invoke) -> None:
    total = len(store_events(shop))
    result = cli("audit", "verify", "--expect", f"{total + 5}:{'a' * 64}", "--format", "json")
    assert result.exit_code == 1
    problem = result.json()["problem"]
    assert problem == (
        f"the expected head recorded event {total + 5}, but the log ends at {total}:"
        " events were removed from the end"
    )
