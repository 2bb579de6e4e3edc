"""List filters as SQL: parsing, bound values, escaping, and query plans that use indexes."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from custsync_cli.domain.fields import Catalogue
from custsync_cli.errors import UsageError
from custsync_cli.store.database import Store, open_store
from custsync_cli.store.filters import (
    FieldMatch,
    OperationFilter,
    Vocabulary,
    build,
    where_clause,
)
from custsync_cli.store.queries import count_matching, matching_ids
from custsync_cli.store.views import list_page
from tests.cli.conftest import Shop, build_shop

CATALOGUE = Catalogue(("loyalty_tier", "birth_year"))

# One case per list filter; each must be answered without a full scan of operations.
FILTERS: dict[str, OperationFilter] = {
    "status": OperationFilter(status=["failed"]),
    "two statuses": OperationFilter(status=["failed", "blocked"]),
    "channel": OperationFilter(channel=["web-se"]),
    "two channels": OperationFilter(channel=["web-se", "store-042"]),
    "operation": OperationFilter(operation=["create_address"]),
    "since": OperationFilter(since=["2026-11-20T09:03:00Z"]),
    "until": OperationFilter(until=["2026-11-20T09:03:00Z"]),
    "since and until": OperationFilter(
        since=["2026-11-20T09:02:00Z"], until=["2026-11-20T09:04:00Z"]
    ),
    "customer account": OperationFilter(customer_account=["C000001"]),
    "async account": OperationFilter(async_account=["bob-1"]),
    "error code": OperationFilter(error_code=["invalid_email"]),
    "where exact": OperationFilter(where=[FieldMatch("email", "bob@")]),
    "where phone": OperationFilter(where=[FieldMatch("phone", "+46 70 1")]),
    "where first name": OperationFilter(where=[FieldMatch("first_name", "Bob")]),
    "where last name": OperationFilter(where=[FieldMatch("last_name", "Berg")]),
    "where organization": OperationFilter(where=[FieldMatch("organization_name", "Acme")]),
    "status and channel": OperationFilter(status=["synced"], channel=["store-042"]),
    "no filter": OperationFilter(),
}
# The documented scans (docs/performance.md): contains on any field, exact on the fields
# without an expression index. They must still find the right operations.
SCANNED: dict[str, OperationFilter] = {
    "where contains": OperationFilter(where=[FieldMatch("city", "borg", contains=True)]),
    "where attribute": OperationFilter(where=[FieldMatch("loyalty_tier", "gold")]),
    "where contains email": OperationFilter(where=[FieldMatch("email", "bob", contains=True)]),
}
FULL_SCAN = re.compile(r"^SCAN (o|operations)\b(?!.*\bUSING\b)")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return build_shop(tmp_path_factory.mktemp("queries"))


@pytest.fixture
def store(shop: Shop) -> Iterator[Store]:
    with open_store(shop.workspace.store_path) as opened:
        yield opened


def statements_of_list(conn: sqlite3.Connection, flt: OperationFilter, offset: int) -> list[str]:
    """Every SELECT that one page of ``list`` runs, as SQLite saw it."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        list_page(conn, flt, limit=2, offset=offset)
    finally:
        conn.set_trace_callback(None)
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]


@pytest.mark.parametrize("analyzed", [False, True], ids=["fresh", "analyzed"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_list_never_scans_the_operations_table(
    shop: Shop, tmp_path: Path, name: str, analyzed: bool
) -> None:
    path = tmp_path / "copy.db"
    with sqlite3.connect(shop.workspace.store_path) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    with open_store(path) as store:
        if analyzed:
            store.conn.execute("ANALYZE")
        statements = statements_of_list(store.conn, FILTERS[name], offset=1)
        assert any("FROM operations AS o" in sql for sql in statements)
        assert any("count(*)" in sql for sql in statements), "offset > 0 must count the matches"
        for sql in statements:
            details = plan(store.conn, sql)
            scans = [d for d in details if FULL_SCAN.match(d)]
            assert not scans, f"{name}: {sql}\n{details}"
            # Statistics of a ten-row table rightly favour walking an index; at scale they do not.
            if name != "no filter" and not analyzed:
                walks = [d for d in details if d.startswith(("SCAN o", "SCAN operations"))]
                assert not walks, f"{name} walks a whole index: {sql}\n{details}"
            assert not any(d.startswith("SCAN operation_errors") for d in details), details


def test_list_loads_errors_of_a_page_in_one_query(store: Store) -> None:
    statements = statements_of_list(store.conn, OperationFilter(), offset=0)
    assert sum("FROM operation_errors" in sql for sql in statements) == 1
    assert sum("FROM operations WHERE id IN" in sql for sql in statements) == 1


def test_error_code_and_where_use_their_indexes(store: Store) -> None:
    for name, index in (
        ("error code", "operation_errors_code"),
        ("where exact", "operations_email"),
        ("where phone", "operations_phone"),
        ("where first name", "operations_first_name"),
        ("where last name", "operations_last_name"),
        ("where organization", "operations_organization_name"),
    ):
        clause, params = where_clause(FILTERS[name])
        sql = f"EXPLAIN QUERY PLAN SELECT o.id FROM operations AS o WHERE {clause}"
        details = [str(row[3]) for row in store.conn.execute(sql, params)]
        assert any(index in d for d in details), details


def test_values_are_bound_never_pasted() -> None:
    hostile = "x'; DROP TABLE operations; --"
    flt = OperationFilter(
        status=["failed"],
        channel=[hostile],
        customer_account=[hostile],
        async_account=[hostile],
        error=[hostile],
        error_code=[hostile],
        where=[FieldMatch("email", hostile), FieldMatch("city", hostile, contains=True)],
    )
    clause, params = where_clause(flt)
    assert hostile not in clause
    assert "DROP" not in clause
    assert params.count(hostile) >= 5


def test_matching_and_counting_follow_newest_first(store: Store, shop: Shop) -> None:
    conn = store.conn
    failed = OperationFilter(status=["failed"])
    expected = [shop.ids["ghost_update"], shop.ids["carl_address"]]
    assert matching_ids(conn, OperationFilter(channel=["store-042"], status=["failed"])) == (
        expected
    )
    assert count_matching(conn, failed) == 3
    assert matching_ids(conn, failed, limit=1, offset=1) == [shop.ids["ghost_update"]]
    assert count_matching(conn, OperationFilter()) == len(shop.ids)


def test_contains_treats_percent_and_underscore_literally(store: Store) -> None:
    conn = store.conn
    assert matching_ids(conn, OperationFilter(where=[FieldMatch("email", "%", True)])) == []
    assert matching_ids(conn, OperationFilter(where=[FieldMatch("email", "_", True)])) == []
    assert matching_ids(conn, OperationFilter(error=["%"])) == []
    assert len(matching_ids(conn, OperationFilter(where=[FieldMatch("email", "@", True)]))) == 5


def test_field_match_parses_exact_and_contains() -> None:
    assert FieldMatch.parse("email=a@b.se", CATALOGUE) == FieldMatch("email", "a@b.se")
    assert FieldMatch.parse("city~borg", CATALOGUE) == FieldMatch("city", "borg", contains=True)
    assert FieldMatch.parse("loyalty_tier=gold", CATALOGUE) == FieldMatch("loyalty_tier", "gold")
    assert FieldMatch.parse("street=a=b", CATALOGUE) == FieldMatch("street", "a=b")
    assert FieldMatch.parse("email=", CATALOGUE) == FieldMatch("email", "")


def test_unknown_field_names_every_valid_field() -> None:
    with pytest.raises(UsageError) as caught:
        FieldMatch.parse("shoe_size=42", CATALOGUE)
    message = caught.value.message
    assert "unknown field 'shoe_size'" in message
    for name in CATALOGUE.all_fields:
        assert name in message


@pytest.mark.parametrize("text", ["email", "=x", "~x", ""])
def test_malformed_where_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        FieldMatch.parse(text, CATALOGUE)


def test_unknown_status_and_operation_are_usage_errors() -> None:
    vocabulary = Vocabulary(CATALOGUE)
    with pytest.raises(UsageError, match="unknown status 'done'"):
        build({"status": ["done"]}, vocabulary)
    with pytest.raises(UsageError, match="unknown operation 'delete_customer'"):
        build({"operation": ["delete_customer"]}, vocabulary)


def test_empty_filter_matches_everything() -> None:
    assert OperationFilter().is_empty()
    assert where_clause(OperationFilter()) == ("1", [])
    assert not OperationFilter(error_code=["x"]).is_empty()


def test_expression_indexes_are_the_declared_indexed_fields(store: Store) -> None:
    from custsync_cli.filter_set import INDEXED_FIELDS

    indexed = {
        str(row[0])
        for row in store.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'operations'"
            " AND sql LIKE '%json_extract%'"
        )
    }
    assert {re.findall(r"'\$\.(\w+)'", sql)[0] for sql in indexed} == set(INDEXED_FIELDS)


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (FieldMatch("city", "borg", contains=True), ["carl_address"]),
        (FieldMatch("city", "BORG", contains=True), ["carl_address"]),
        (FieldMatch("city", "Göteborg"), ["carl_address"]),
        (FieldMatch("city", "göteborg"), []),
        (FieldMatch("loyalty_tier", "gold"), ["anna_create"]),
        (FieldMatch("loyalty_tier", "i", contains=True), ["acme_create"]),
        (FieldMatch("email", "bob", contains=True), ["bob_create"]),
        (FieldMatch("organization_name", "Acme AB"), ["acme_create"]),
        (FieldMatch("organization_name", "Acme"), []),
        (FieldMatch("phone", "+46 70 111 22 33"), ["bob_update"]),
        (FieldMatch("last_name", "Berg"), ["carl_create"]),
        # The key test on the JSON text must not match another field's value or key.
        (FieldMatch("city", "loyalty_tier", contains=True), []),
    ],
)
def test_where_finds_exactly_the_operations_holding_the_value(
    store: Store, shop: Shop, match: FieldMatch, expected: list[str]
) -> None:
    found = set(matching_ids(store.conn, OperationFilter(where=[match])))
    assert found == {shop.ids[name] for name in expected}


@pytest.mark.parametrize("name", list(SCANNED))
def test_scanned_filters_are_the_documented_kinds(store: Store, name: str) -> None:
    clause, params = where_clause(SCANNED[name])
    sql = f"EXPLAIN QUERY PLAN SELECT o.id FROM operations AS o WHERE {clause}"
    details = [str(row[3]) for row in store.conn.execute(sql, params)]
    assert all(d.startswith("SCAN o") for d in details), details


def test_where_sees_edits_drops_and_escaped_values(shop: Shop, tmp_path: Path) -> None:
    from custsync_cli.store.operations import save_field_edits

    path = tmp_path / "copy.db"
    with sqlite3.connect(shop.workspace.store_path) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    carl, bob = shop.ids["carl_address"], shop.ids["bob_create"]
    with open_store(path) as store, store.transaction() as conn:
        save_field_edits(
            conn, carl, [("city", 'Gö"te\\borg', False)], address_id_column=True, now="t"
        )
        save_field_edits(conn, bob, [("email", None, True)], address_id_column=False, now="t")

    def ids(match: FieldMatch) -> list[int]:
        with open_store(path) as store:
            return matching_ids(store.conn, OperationFilter(where=[match]))

    assert ids(FieldMatch("city", 'Gö"te\\borg')) == [carl]
    assert ids(FieldMatch("city", '"te\\b', contains=True)) == [carl]
    assert ids(FieldMatch("city", "Göteborg")) == []
    assert ids(FieldMatch("email", "bob@")) == []
    assert ids(FieldMatch("email", "bob", contains=True)) == []
