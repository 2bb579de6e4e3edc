"""`custsync list` for scripts, through the installed command: --all, tsv, --no-headers."""

from __future__ import annotations

import csv
import io
import json

from tests.cli.conftest import Shop


def run_list(shop: Shop, *args: str) -> tuple[str, str]:
    result = shop.workspace.run("list", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def every_id(shop: Shop) -> list[int]:
    with shop.store() as conn:
        rows = conn.execute("SELECT id FROM operations ORDER BY timestamp DESC, id DESC")
        return [int(row[0]) for row in rows]


def test_all_and_limit_0_return_every_match_and_say_nothing_more(shop: Shop) -> None:
    everything = every_id(shop)
    assert len(everything) > 2
    for args in (["--all"], ["--limit", "0"], ["--all", "--limit", "2"]):
        out, err = run_list(shop, "--format", "json", *args)
        assert [op["id"] for op in json.loads(out)] == everything, args
        assert err == "", args
    out, _ = run_list(shop, "--format", "json", "--all", "--offset", "2")
    assert [op["id"] for op in json.loads(out)] == everything[2:]


def test_json_that_stops_at_the_limit_says_so_on_stderr(shop: Shop) -> None:
    out, err = run_list(shop, "--format", "json", "--limit", "2")
    assert len(json.loads(out)) == 2
    assert f"showing 2 of {len(every_id(shop))}; use --offset 2 for more" in err


def test_json_names_the_operation_a_blocked_one_waits_for(shop: Shop) -> None:
    out, _ = run_list(shop, "--format", "json", "--all")
    by_id = {op["id"]: op for op in json.loads(out)}
    assert by_id[shop.ids["bob_update"]]["status"] == "blocked"
    assert by_id[shop.ids["bob_update"]]["blocked_by"] == shop.ids["bob_create"]
    others = [op for op in by_id.values() if op["status"] != "blocked"]
    assert others and all(op["blocked_by"] is None for op in others)


def test_tsv_is_one_line_per_operation_with_error_codes_joined(shop: Shop) -> None:
    out, _ = run_list(shop, "--format", "tsv", "--all")
    parsed, _ = run_list(shop, "--format", "json", "--all")
    expected = json.loads(parsed)
    lines = out.splitlines()
    keys = lines[0].split("\t")
    assert keys[0] == "id" and keys[-2:] == ["blocked_by", "errors"]
    assert len(lines) == len(expected) + 1
    for line, op in zip(lines[1:], expected, strict=True):
        cells = dict(zip(keys, line.split("\t"), strict=True))
        assert cells["id"] == str(op["id"])
        assert cells["errors"] == ";".join(error["code"] for error in op["errors"])
        assert cells["blocked_by"] == ("" if op["blocked_by"] is None else str(op["blocked_by"]))
    assert any(op["errors"] for op in expected)


def test_csv_errors_are_codes_joined_by_semicolons(shop: Shop) -> None:
    out, _ = run_list(shop, "--format", "csv", "--all")
    parsed, _ = run_list(shop, "--format", "json", "--all")
    codes = {op["id"]: ";".join(e["code"] for e in op["errors"]) for op in json.loads(parsed)}
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {int(row["id"]): row["errors"] for row in rows} == codes
    assert any(codes.values())


def test_no_headers_drops_only_the_heading_line(shop: Shop) -> None:
    # The piped table's heading is two lines: the headings and a rule under them.
    for fmt, heading_lines in (("table", 2), ("csv", 1), ("tsv", 1)):
        with_headers, _ = run_list(shop, "--format", fmt, "--all")
        without, _ = run_list(shop, "--format", fmt, "--all", "--no-headers")
        assert "channel" in with_headers.splitlines()[0], fmt
        assert cells(without, fmt) == cells(with_headers, fmt)[heading_lines:], fmt


def cells(output: str, fmt: str) -> list[list[str]]:
    """Each line's cells; a table's columns narrow to their values without headings."""
    if fmt == "table":
        return [[cell.strip() for cell in line.split("|")] for line in output.splitlines()]
    return [[line] for line in output.splitlines()]
