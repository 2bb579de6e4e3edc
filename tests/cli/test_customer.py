"""`custsync customer show`: the HQ record, its addresses and attributes, and its operations."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.cli.conftest import Shop
from tests.conftest import Invoke


def customer_json(cli: Invoke, account: str) -> dict[str, Any]:
    result = cli("customer", "show", account, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def test_hq_account_shows_record_addresses_attributes_and_operations(
    shop: Shop, cli: Invoke
) -> None:
    view = customer_json(cli, "C000001")
    assert list(view) == ["customer_account", "async_account", "customer", "operations"]
    assert view["customer_account"] == "C000001"
    assert view["async_account"] == "anna-1"
    record = view["customer"]
    assert record["customer_account"] == "C000001"
    assert record["channel"] == "web-se"
    assert record["type"] == "person"
    assert record["first_name"] == "Anna"
    assert record["last_name"] == "Svensson"
    assert record["email"] == "anna.s@example.se"
    assert record["phone"] == "+46 70 999 88 77"
    assert record["attributes"] == {"birth_year": "1980", "loyalty_tier": "gold"}
    (address,) = record["addresses"]
    assert address["address_id"] == "A1"
    assert address["city"] == "Stockholm"
    assert address["country"] == "SWE"
    ops = view["operations"]
    assert [op["id"] for op in ops] == [
        shop.ids["anna_create"],
        shop.ids["anna_address"],
        shop.ids["anna_update"],
    ]
    assert [op["operation"] for op in ops] == [
        "create_customer",
        "create_address",
        "update_customer",
    ]
    assert all(op["status"] == "synced" for op in ops)
    assert ops[0]["change_description"].startswith("Created person customer Anna Svensson")
    assert ops[2]["change_description"].startswith("Changed email from")
    assert ops[1]["errors"] == []


def test_async_account_finds_the_same_customer(shop: Shop, cli: Invoke) -> None:
    assert customer_json(cli, "anna-1") == customer_json(cli, "C000001")


def test_pending_customer_has_no_record_but_its_operations(shop: Shop, cli: Invoke) -> None:
    view = customer_json(cli, "bob-1")
    assert view["customer_account"] is None
    assert view["customer"] is None
    assert [op["status"] for op in view["operations"]] == ["failed", "blocked"]
    assert view["operations"][0]["errors"][0]["code"] == "invalid_email"


def test_failed_operation_is_listed_with_the_customer(shop: Shop, cli: Invoke) -> None:
    view = customer_json(cli, "C000003")
    assert [op["status"] for op in view["operations"]] == ["synced", "failed"]
    assert view["customer"]["addresses"] == []


def test_table_output(shop: Shop, cli: Invoke) -> None:
    result = cli("customer", "show", "C000001")
    assert result.exit_code == 0
    out = result.stdout
    assert re.search(r"Customer account\s+C000001", out)
    assert re.search(r"Async account\s+anna-1", out)
    assert re.search(r"loyalty_tier\s+gold", out)
    assert re.search(r"email\s+anna.s@example.se", out)
    assert "Addresses" in out and "Stockholm" in out
    assert "Operations, oldest first" in out
    rows = [line for line in out.splitlines() if re.match(r"^\d+\s+\|", line)]
    assert [int(row.split("|")[0]) for row in rows] == [
        shop.ids["anna_create"],
        shop.ids["anna_address"],
        shop.ids["anna_update"],
    ]
    pending = cli("customer", "show", "bob-1").stdout
    assert re.search(r"Customer account\s+Pending sync", pending)
    assert "no create has synced" in pending


@pytest.mark.parametrize("account", ["C999999", "no-such-guid", "c000001"])
def test_unknown_account_is_not_found(shop: Shop, cli: Invoke, account: str) -> None:
    result = cli("customer", "show", account)
    assert result.exit_code == 3
    assert result.stderr.strip() == f"custsync: error: no customer or async account '{account}'"
    assert result.stdout == ""


def test_customer_without_account_is_a_usage_error(shop: Shop, cli: Invoke) -> None:
    assert cli("customer", "show").exit_code == 2


def test_installed_command_shows_a_customer_as_json(shop: Shop) -> None:
    done = shop.workspace.run("customer", "show", "C000002", "--format", "json")
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["customer"]["organization_name"] == "Acme AB"
    assert view["customer"]["attributes"] == {"loyalty_tier": "silver"}
