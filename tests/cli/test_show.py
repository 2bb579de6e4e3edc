"""`custsync show`: header, change description, field grid and history of each kind of operation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custsync_cli.cli import run
from custsync_cli.output import console as console_module
from custsync_cli.output import show as show_module
from tests.cli.conftest import Shop, build_shop
from tests.conftest import Invoke
from tests.helpers import Workspace, person

LIST_KEYS = [
    "id",
    "channel",
    "replication_counter",
    "operation",
    "async_account",
    "customer_account",
    "status",
    "timestamp",
    "last_error",
    "blocked_by",
    "errors",
]
FIELD_KEYS = ["name", "old", "new", "channel_value", "edited", "changed", "failing", "dropped"]


def invoke(config: Path, *args: str) -> int:
    return int(run(["--config", str(config), *args]))


@pytest.fixture(scope="module")
def repaired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The shop after an operator edited, dropped, discarded and resynced with a conflict."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTSYNC_ACTOR", "operator-1")
        mp.setenv("NO_COLOR", "1")
        shop = build_shop(tmp_path_factory.mktemp("repaired"))
        web = shop.workspace.channel("web-se")
        without_last_name = {k: v for k, v in person("Dan", "Ek").items() if k != "last_name"}
        counters = {
            "dan_create": web.add("dan-1", "create_customer", without_last_name),
            "anna_bad_phone": web.add(
                "anna-1", "update_customer", {"phone": "12", "language": "en-GB"}
            ),
            "anna_phone": web.add("anna-1", "update_customer", {"phone": "+46 70 555 55 55"}),
        }
        config = shop.config
        assert invoke(config, "run-jobs") == 0
        with shop.store() as conn:
            for name, counter in counters.items():
                shop.ids[name] = conn.execute(
                    "SELECT id FROM operations WHERE channel = 'web-se'"
                    " AND replication_counter = ?",
                    (counter,),
                ).fetchone()[0]
        ids = {name: str(op_id) for name, op_id in shop.ids.items()}
        edit = ["edit", "--reason"]
        assert invoke(config, *edit, "typo at the till", ids["bob_create"], "--set",
                      "email=bob.ek@example.se") == 0  # fmt: skip
        assert invoke(config, *edit, "country code", ids["carl_address"], "--set",
                      "country=SWE", "--unset", "zip_code") == 0  # fmt: skip
        assert invoke(config, "resync", ids["carl_address"]) == 0
        assert invoke(config, *edit, "valid phone", ids["anna_bad_phone"], "--set",
                      "phone=+46 70 444 44 44") == 0  # fmt: skip
        assert invoke(config, "resync", ids["anna_bad_phone"]) == 0
        assert invoke(config, "discard", ids["ghost_update"], "--reason", "test data", "--yes") == 0
        yield shop


@pytest.fixture
def fixed(repaired: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """The repaired shop, with the environment pointing at it; tests must not change it."""
    monkeypatch.setenv("CUSTSYNC_CONFIG", str(repaired.config))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return repaired


def show_json(cli: Invoke, op_id: int) -> dict[str, Any]:
    result = cli("show", str(op_id), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def by_name(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in detail["fields"]}


def test_created_operation_json_key_by_key(shop: Shop, cli: Invoke) -> None:
    detail = show_json(cli, shop.ids["anna_create"])
    assert list(detail)[: len(LIST_KEYS)] == LIST_KEYS
    for key in ("change_description", "fields", "history"):
        assert key in detail
    assert detail["id"] == shop.ids["anna_create"]
    assert detail["channel"] == "web-se"
    assert detail["replication_counter"] == 1
    assert detail["operation"] == "create_customer"
    assert detail["async_account"] == "anna-1"
    assert detail["customer_account"] == "C000001"
    assert detail["status"] == "synced"
    assert detail["timestamp"] == "2026-11-20T09:01:00Z"
    assert detail["last_error"] is None
    assert detail["errors"] == []
    assert detail["attempts"] == 1
    assert detail["created_by"] == "u-1043"
    assert detail["blocked_by"] is None
    assert detail["change_description"].startswith(
        "Created person customer Anna Svensson with 9 fields on web-se at 2026-11-20 09:01"
        " by user u-1043. Synced to HQ as customer C000001 at "
    )
    assert [f["name"] for f in detail["fields"]] == [
        "type",
        "first_name",
        "last_name",
        "email",
        "phone",
        "currency",
        "language",
        "loyalty_tier",
        "birth_year",
    ]
    email = by_name(detail)["email"]
    assert list(email)[: len(FIELD_KEYS)] == FIELD_KEYS
    assert email == {
        "name": "email",
        "old": None,
        "new": "anna.svensson@example.se",
        "channel_value": "anna.svensson@example.se",
        "edited": False,
        "changed": True,
        "failing": False,
        "dropped": False,
        "conflict_with": None,
    }
    assert by_name(detail)["birth_year"]["new"] == "1980"
    assert [e["action"] for e in detail["history"]] == ["pulled", "synced", "distributed"]
    event = detail["history"][0]
    assert set(event) >= {"id", "at", "actor", "action", "details"}
    assert event["details"]["replication_counter"] == 1
    assert event["actor"] == "tester"


def test_update_describes_old_and_new_values(shop: Shop, cli: Invoke) -> None:
    detail = show_json(cli, shop.ids["anna_update"])
    assert detail["change_description"].startswith(
        "Changed email from anna.svensson@example.se to anna.s@example.se and phone from"
        " +46 70 123 45 67 to +46 70 999 88 77 on web-se at 2026-11-20 09:03 by user tester."
    )
    phone = by_name(detail)["phone"]
    assert phone["old"] == "+46 70 123 45 67"
    assert phone["new"] == "+46 70 999 88 77"
    assert phone["changed"] is True


def test_failed_create_says_why_and_marks_the_field(shop: Shop, cli: Invoke) -> None:
    detail = show_json(cli, shop.ids["bob_create"])
    assert detail["status"] == "failed"
    assert detail["customer_account"] is None
    assert detail["errors"] == [
        {
            "field": "email",
            "code": "invalid_email",
            "message": "email 'bob@' is not a valid address",
        }
    ]
    assert detail["change_description"].endswith(
        "Sync failed: email 'bob@' is not a valid address."
    )
    fields = by_name(detail)
    assert fields["email"]["failing"] is True
    assert fields["phone"]["failing"] is False
    assert [e["action"] for e in detail["history"]] == ["pulled", "sync_failed"]
    assert detail["history"][1]["details"]["errors"][0]["code"] == "invalid_email"


def test_failed_create_as_a_table(shop: Shop, cli: Invoke) -> None:
    result = cli("show", str(shop.ids["bob_create"]))
    assert result.exit_code == 0
    out = result.stdout
    assert re.search(r"Customer account\s+Pending sync", out)
    assert re.search(r"Async account\s+bob-1", out)
    assert re.search(r"Status\s+failed", out)
    assert re.search(r"Attempts\s+1", out)
    assert re.search(r"Last error\s+email 'bob@' is not a valid address", out)
    assert "What happened" in out
    assert "Created person customer Bob Ek with 7 fields on web-se" in out
    email_row = next(line for line in out.splitlines() if line.startswith("email "))
    assert "bob@" in email_row and "FAILS" in email_row
    assert "History" in out and "sync_failed" in out


def test_blocked_update_names_the_operation_it_waits_for(shop: Shop, cli: Invoke) -> None:
    detail = show_json(cli, shop.ids["bob_update"])
    assert detail["status"] == "blocked"
    assert detail["blocked_by"] == shop.ids["bob_create"]
    assert detail["change_description"].endswith(
        f"Blocked: waits for operation {shop.ids['bob_create']} (create_customer, failed)."
    )
    assert [e["action"] for e in detail["history"]] == ["pulled", "blocked"]
    table = cli("show", str(shop.ids["bob_update"])).stdout
    assert re.search(rf"Blocked by\s+operation {shop.ids['bob_create']}", table)


def test_failed_address_is_described_as_a_place(shop: Shop, cli: Invoke) -> None:
    detail = show_json(cli, shop.ids["carl_address"])
    assert detail["change_description"] == (
        "Added home address A1 (Drottninggatan 1, 11151 Göteborg, SVE) for customer C000003"
        " on store-042 at 2026-11-20 09:02 by user tester. Sync failed: country 'SVE' is not"
        " an ISO 3166 alpha-3 code (for example SWE, USA)."
    )
    assert by_name(detail)["country"]["failing"] is True


def test_edited_operation_shows_channel_and_edited_values(fixed: Shop, cli: Invoke) -> None:
    detail = show_json(cli, fixed.ids["bob_create"])
    table = cli("show", str(fixed.ids["bob_create"])).stdout
    email = by_name(detail)["email"]
    assert email["channel_value"] == "bob@"
    assert email["new"] == "bob.ek@example.se"
    assert email["edited"] is True
    assert by_name(detail)["phone"]["edited"] is False
    assert (
        "An operator changed email from bob@ (as the channel sent it) to bob.ek@example.se."
        in (detail["change_description"])
    )
    edited = [e for e in detail["history"] if e["action"] == "edited"]
    assert len(edited) == 1
    assert edited[0]["actor"] == "operator-1"
    assert edited[0]["details"]["reason"] == "typo at the till"
    row = next(line for line in table.splitlines() if line.startswith("email "))
    assert "bob@" in row and "bob.ek@example.se" in row and "edited" in row
    assert "reason: typo at the till" in table


def test_dropped_field_and_resync_history(fixed: Shop, cli: Invoke) -> None:
    detail = show_json(cli, fixed.ids["carl_address"])
    assert detail["status"] == "synced"
    assert detail["attempts"] == 2
    fields = by_name(detail)
    assert fields["zip_code"]["dropped"] is True
    assert fields["zip_code"]["new"] is None
    assert fields["zip_code"]["channel_value"] == "11151"
    assert fields["country"]["channel_value"] == "SVE"
    assert fields["country"]["new"] == "SWE"
    assert "An operator dropped zip_code." in detail["change_description"]
    actions = [e["action"] for e in detail["history"]]
    assert actions[:3] == ["pulled", "sync_failed", "edited"]
    assert actions[-2:] == ["synced", "distributed"]


def test_discarded_operation_gives_the_reason(fixed: Shop, cli: Invoke) -> None:
    detail = show_json(cli, fixed.ids["ghost_update"])
    assert detail["status"] == "discarded"
    assert detail["discard_reason"] == "test data"
    assert detail["change_description"].endswith("Discarded: test data.")
    assert detail["history"][-1]["action"] == "discarded"


def test_kept_newer_value_is_marked_as_a_conflict(fixed: Shop, cli: Invoke) -> None:
    detail = show_json(cli, fixed.ids["anna_bad_phone"])
    table = cli("show", str(fixed.ids["anna_bad_phone"])).stdout
    newer = fixed.ids["anna_phone"]
    assert detail["status"] == "synced"
    phone = by_name(detail)["phone"]
    assert phone["conflict_with"] == newer
    assert phone["edited"] is True
    assert by_name(detail)["language"]["conflict_with"] is None
    assert (
        f"Kept the newer HQ value of phone (from operation {newer}) instead of this older one."
        in detail["change_description"]
    )
    assert f"kept newer (op {newer})" in table


def test_missing_required_field_gets_a_row(fixed: Shop, cli: Invoke) -> None:
    detail = show_json(cli, fixed.ids["dan_create"])
    table = cli("show", str(fixed.ids["dan_create"])).stdout
    assert detail["missing_fields"] == ["last_name"]
    assert "last_name" not in by_name(detail)
    assert detail["change_description"].endswith("Sync failed: last_name is missing.")
    row = next(line for line in table.splitlines() if line.startswith("last_name "))
    assert "FAILS" in row and "missing" in row


def test_colour_marks_failing_and_changed_values_on_a_terminal(
    shop: Shop, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr(show_module, "stdout_is_terminal", lambda: True)
    console_module.stdout_console.cache_clear()
    out = cli("show", str(shop.ids["bob_create"])).stdout
    assert "\x1b[" in out
    email_row = next(line for line in out.splitlines() if "bob@" in line and "FAILS" in line)
    assert "\x1b[1;31m" in email_row
    phone_row = next(line for line in out.splitlines() if "+46 70 123 45 67" in line)
    assert "\x1b[32m" in phone_row


def test_unknown_operation_is_not_found(shop: Shop, cli: Invoke) -> None:
    result = cli("show", "99999")
    assert result.exit_code == 3
    assert result.stderr.strip() == "custsync: error: no operation 99999 (see 'custsync list')"
    assert result.stdout == ""


@pytest.mark.parametrize("bad", ["abc", "1.5", "12x"])
def test_non_integer_id_is_a_usage_error(shop: Shop, cli: Invoke, bad: str) -> None:
    result = cli("show", bad)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_installed_command_shows_an_operation(shop: Shop) -> None:
    done = shop.workspace.run("show", str(shop.ids["bob_update"]))
    assert done.returncode == 0, done.stderr
    assert "Blocked: waits for operation" in done.stdout
    missing = shop.workspace.run("show", "424242")
    assert missing.returncode == 3
    assert missing.stderr.count("\n") == 1


def test_malformed_channel_rows_are_shown_plainly(workspace: Workspace, cli: Invoke) -> None:
    channel = workspace.channel("web-se")
    channel.add("x-1", "delete_customer", {"a": 1})
    channel.add("x-2", "create_customer", "not json")
    assert cli("run-jobs").exit_code == 0
    odd = show_json(cli, 1)
    assert odd["change_description"] == (
        "Received an operation of unknown type 'delete_customer' on web-se at 2026-11-20 09:01"
        " by user tester. Sync failed: 'delete_customer' is not an operation type custsync knows."
    )
    assert [f["name"] for f in odd["fields"]] == ["a"]
    empty = cli("show", "2")
    assert empty.exit_code == 0
    assert "Fields: none" in empty.stdout
    assert "the channel's fields are not a JSON object" in empty.stdout
