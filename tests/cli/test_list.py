"""`custsync list`: every filter, paging, and each output format checked field by field."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from custsync_cli.output import console, render
from tests.cli.conftest import Shop
from tests.conftest import Invoke

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
NEWEST_FIRST = [
    "nina_create",
    "acme_create",
    "bob_update",
    "bob_create",
    "ghost_update",
    "anna_update",
    "carl_address",
    "anna_address",
    "carl_create",
    "anna_create",
]


def listed(cli: Invoke, *args: str) -> list[int]:
    result = cli("list", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return [op["id"] for op in result.json()]


def names(shop: Shop, *wanted: str) -> list[int]:
    """Ids of the named operations in newest-first order."""
    return [shop.ids[name] for name in NEWEST_FIRST if name in wanted]


def test_default_lists_everything_newest_first(shop: Shop, cli: Invoke) -> None:
    assert listed(cli) == names(shop, *NEWEST_FIRST)


def test_json_objects_have_exactly_the_contract_keys_and_values(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--format", "json", "--status", "failed", "--channel", "web-se")
    assert result.exit_code == 0
    (op,) = result.json()
    assert list(op) == LIST_KEYS
    assert op["id"] == shop.ids["bob_create"]
    assert op["channel"] == "web-se"
    assert op["replication_counter"] == 4
    assert op["operation"] == "create_customer"
    assert op["async_account"] == "bob-1"
    assert op["customer_account"] is None
    assert op["status"] == "failed"
    assert op["timestamp"] == "2026-11-20T09:04:00Z"
    assert op["last_error"] == "email 'bob@' is not a valid address"
    assert op["errors"] == [
        {
            "field": "email",
            "code": "invalid_email",
            "message": "email 'bob@' is not a valid address",
        }
    ]


def test_synced_operation_json_has_account_and_no_errors(shop: Shop, cli: Invoke) -> None:
    (op,) = cli(
        "list", "--format", "json", "--operation", "create_address", "--status", "synced"
    ).json()
    assert op["id"] == shop.ids["anna_address"]
    assert op["customer_account"] == "C000001"
    assert op["last_error"] is None
    assert op["errors"] == []


def test_repeated_status_and_channel_mean_any(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--status", "failed", "--status", "blocked") == names(
        shop, "bob_update", "bob_create", "ghost_update", "carl_address"
    )
    assert listed(cli, "--channel", "web-se", "--channel", "store-042") == names(
        shop, *NEWEST_FIRST
    )
    assert listed(cli, "--channel", "store-042", "--status", "synced") == names(
        shop, "nina_create", "carl_create"
    )


def test_operation_filter(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--operation", "update_customer") == names(
        shop, "bob_update", "ghost_update", "anna_update"
    )
    assert listed(cli, "--operation", "create_address", "--operation", "update_customer") == names(
        shop, "bob_update", "ghost_update", "anna_update", "carl_address", "anna_address"
    )


def test_since_and_until_with_iso_times(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--since", "2026-11-20T09:05", "--until", "2026-11-20T09:06:00Z") == names(
        shop, "acme_create", "bob_update"
    )
    assert listed(cli, "--until", "2026-11-20T09:01") == names(shop, "carl_create", "anna_create")
    assert listed(cli, "--since", "2026-11-21") == names(shop, "nina_create")


def test_since_and_until_with_relative_forms(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--since", "2h") == names(shop, "nina_create")
    assert listed(cli, "--since", "3d") == names(shop, "nina_create")
    until = listed(cli, "--until", "30m")
    assert shop.ids["nina_create"] in until
    assert shop.ids["nina_create"] not in listed(cli, "--until", "90m")
    assert len(listed(cli, "--until", "90m")) == len(NEWEST_FIRST) - 1


def test_bad_time_is_a_usage_error(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--since", "yesterday-ish")
    assert result.exit_code == 2
    assert "is not a time" in result.stderr
    assert result.stdout == ""


def test_customer_and_async_account_filters(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--customer-account", "C000001") == names(
        shop, "anna_update", "anna_address", "anna_create"
    )
    assert listed(cli, "--async-account", "bob-1") == names(shop, "bob_update", "bob_create")
    assert listed(cli, "--customer-account", "C999999") == []


def test_error_text_and_error_code(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--error-code", "invalid_email") == names(shop, "bob_create")
    assert listed(cli, "--error-code", "invalid_country") == names(shop, "carl_address")
    assert listed(cli, "--error", "never seen") == names(shop, "ghost_update")
    assert listed(cli, "--error", "unknown_customer") == names(shop, "ghost_update")
    assert listed(cli, "--error", "100%_") == []


def test_where_exact_and_contains_on_builtin_field(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--where", "email=bob@") == names(shop, "bob_create")
    assert listed(cli, "--where", "email~example.se") == names(
        shop, "nina_create", "anna_update", "carl_create", "anna_create"
    )
    assert listed(cli, "--where", "first_name=anna") == []


def test_where_on_address_field_and_attribute(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--where", "country=SVE") == names(shop, "carl_address")
    assert listed(cli, "--where", "city~borg") == names(shop, "carl_address")
    assert listed(cli, "--where", "loyalty_tier=silver") == names(shop, "acme_create")
    assert listed(cli, "--where", "loyalty_tier~l") == names(shop, "acme_create", "anna_create")


def test_where_filters_combine_with_and(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--where", "country=SWE", "--where", "street~Drottning") == names(
        shop, "anna_address"
    )
    assert listed(cli, "--where", "country=SWE", "--status", "failed") == []


def test_where_value_is_bound_not_pasted(shop: Shop, cli: Invoke) -> None:
    assert listed(cli, "--where", "email=x' OR '1'='1") == []
    with shop.store() as conn:
        assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == len(NEWEST_FIRST)


def test_where_with_unknown_field_lists_the_valid_names(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--where", "shoe_size=42")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown field 'shoe_size'" in result.stderr
    for name in ("email", "country", "loyalty_tier", "birth_year", "zip_code"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", ["email", "=x", "~x"])
def test_malformed_where_is_refused(shop: Shop, cli: Invoke, bad: str) -> None:
    result = cli("list", "--where", bad)
    assert result.exit_code == 2
    assert "FIELD=VALUE" in result.stderr


def test_unknown_status_is_refused(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--status", "done")
    assert result.exit_code == 2
    assert "unknown status 'done'" in result.stderr


def test_limit_offset_and_how_many_more(shop: Shop, cli: Invoke) -> None:
    first = cli("list", "--format", "json", "--limit", "4")
    assert [op["id"] for op in first.json()] == names(shop, *NEWEST_FIRST)[:4]
    assert "showing 4 of 10; use --offset 4 for more" in first.stderr
    second = cli("list", "--format", "json", "--limit", "4", "--offset", "4")
    assert [op["id"] for op in second.json()] == names(shop, *NEWEST_FIRST)[4:8]
    assert "showing 5-8 of 10; use --offset 8 for more" in second.stderr
    last = cli("list", "--format", "json", "--limit", "4", "--offset", "8")
    assert [op["id"] for op in last.json()] == names(shop, *NEWEST_FIRST)[8:]
    assert "for more" not in last.stderr
    beyond = cli("list", "--format", "json", "--offset", "50")
    assert beyond.json() == []
    assert "10 match in all" in beyond.stderr


def test_no_match_says_so_on_stderr(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--format", "json", "--error-code", "sequence_exhausted")
    assert result.exit_code == 0
    assert result.json() == []
    assert "no operations match" in result.stderr


def test_limit_and_offset_must_not_be_negative(shop: Shop, cli: Invoke) -> None:
    assert cli("list", "--limit", "-1").exit_code == 2
    assert cli("list", "--offset", "-1").exit_code == 2


def test_jsonl_is_one_object_per_line(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--format", "jsonl", "--status", "failed")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    objects = [json.loads(line) for line in lines]
    assert [o["id"] for o in objects] == names(shop, "bob_create", "ghost_update", "carl_address")
    assert all(list(o) == LIST_KEYS for o in objects)
    assert objects[1]["errors"][0]["code"] == "unknown_customer"


def test_csv_has_a_header_and_one_row_per_operation(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--format", "csv", "--channel", "store-042")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == LIST_KEYS
    assert [int(r["id"]) for r in rows] == names(
        shop, "nina_create", "ghost_update", "carl_address", "carl_create"
    )
    address = rows[2]
    assert address["customer_account"] == "C000003"
    assert address["status"] == "failed"
    assert address["last_error"].startswith("country 'SVE' is not")
    assert address["errors"] == "invalid_country"
    assert rows[1]["customer_account"] == ""


def test_piped_table_has_all_columns_and_pending_sync(shop: Shop, cli: Invoke) -> None:
    result = cli("list", "--async-account", "bob-1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    header = lines[0]
    for heading in (
        "id",
        "channel",
        "customer account",
        "async customer account",
        "timestamp",
        "status",
        "operation",
        "last error",
    ):
        assert heading in header
    rows = [line for line in lines[2:] if line.strip()]
    assert len(rows) == 2
    assert all("Pending sync" in row for row in rows)
    assert "2026-11-20 09:05:00" in rows[0] and "blocked" in rows[0]
    assert "waits for operation" in rows[0]
    assert "invalid" not in result.stderr


def test_table_shortens_long_errors_unless_wide(shop: Shop, cli: Invoke) -> None:
    message = "country 'SVE' is not an ISO 3166 alpha-3 code (for example SWE, USA)"
    short = cli("list", "--error-code", "invalid_country")
    assert message not in short.stdout
    assert "country 'SVE' is not an ISO 3166" in short.stdout
    assert "…" in short.stdout
    wide = cli("list", "--error-code", "invalid_country", "--wide")
    assert message in wide.stdout


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Make the output module believe stdout is a terminal (Rich still writes plain text)."""
    monkeypatch.setattr("custsync_cli.output.listing.stdout_is_terminal", lambda: True)
    monkeypatch.setattr(render, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(console, "stdout_is_terminal", lambda: True)
    console.stdout_console.cache_clear()
    yield monkeypatch
    console.stdout_console.cache_clear()


def test_terminal_table_at_a_fixed_width_keeps_ids_and_statuses(
    shop: Shop, cli: Invoke, terminal: pytest.MonkeyPatch
) -> None:
    terminal.setenv("COLUMNS", "100")
    result = cli("list", "--status", "failed")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 100
    assert "id" in lines[0] and "status" in lines[0] and "last error" in lines[0]
    for name in ("bob_create", "ghost_update", "carl_address"):
        assert any(line.split()[0] == str(shop.ids[name]) for line in lines[2:] if line.split())
    assert result.stdout.count("failed") == 3
    assert "too narrow for async customer account" in result.stderr


def test_wide_terminal_shows_every_column_whole(
    shop: Shop, cli: Invoke, terminal: pytest.MonkeyPatch
) -> None:
    terminal.setenv("COLUMNS", "220")
    result = cli("list", "--async-account", "bob-1")
    header = result.stdout.splitlines()[1]
    for heading in ("id", "channel", "customer account", "async customer account", "timestamp"):
        assert heading in header
    assert "2026-11-20 09:05:00" in result.stdout
    assert result.stdout.count("Pending sync") == 2
    assert "too narrow" not in result.stderr


def test_listing_changes_nothing(shop: Shop, cli: Invoke) -> None:
    with shop.store() as conn:
        before = conn.execute("SELECT count(*), max(id) FROM audit_log").fetchone()
    cli("list", "--status", "failed")
    with shop.store() as conn:
        assert conn.execute("SELECT count(*), max(id) FROM audit_log").fetchone() == before


def test_missing_store_is_not_found(
    tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTSYNC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = cli("--db", str(tmp_path / "none.db"), "list")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_installed_command_lists_json_when_piped(shop: Shop) -> None:
    done = shop.workspace.run("list", "--status", "failed", "--format", "json")
    assert done.returncode == 0, done.stderr
    ops = json.loads(done.stdout)
    assert [op["id"] for op in ops] == names(shop, "bob_create", "ghost_update", "carl_address")
    table = shop.workspace.run("list", "--limit", "2")
    assert table.returncode == 0
    assert "showing 2 of 10; use --offset 2 for more" in table.stderr
    assert "Pending sync" not in table.stdout.splitlines()[2]
    bad = shop.workspace.run("list", "--where", "nope=1")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
