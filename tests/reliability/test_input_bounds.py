"""Huge numbers, odd dates and hostile YAML end in one line and exit 2, never a crash or hang."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from custsync_cli import yamlio
from custsync_cli.config import load_config
from custsync_cli.errors import ConfigError
from tests.helpers import Result, Workspace, person

Invoke = Callable[..., Result]

HUGE = "99999999999999999999"


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each line names the previous one nine times, 600 bytes in all."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def assert_usage_error(result: Result) -> None:
    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip(), "a message says what was wrong"


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--since", "0001-01-01T00:00:00+01:00"],
        ["list", "--until", "9999-12-31T23:00:00-05:00"],
        ["audit", "--since", "0001-01-01T00:00:00+01:00"],
        ["list", "--since", "99999999999999d"],
        ["status", "--max-pending-age", "99999999999999d"],
        ["show", HUGE],
        ["list", "--limit", HUGE],
        ["list", "--offset", HUGE],
        ["list", "--limit", "9223372036854775808"],
        ["audit", "--limit", HUGE],
        ["audit", "--op", HUGE],
        ["jobs", "--limit", HUGE],
        ["jobs", "--limit", "1e20"],
        ["status", "--top", HUGE],
        ["resync", HUGE],
        ["discard", HUGE, "--reason", "x"],
        ["run-jobs", "--interval", HUGE],
    ],
)
def test_out_of_range_arguments_are_usage_errors(
    workspace: Workspace, cli: Invoke, args: list[str]
) -> None:
    assert cli("run-jobs").exit_code == 0
    assert_usage_error(cli(*args))


def test_the_largest_sqlite_integer_is_still_accepted(workspace: Workspace, cli: Invoke) -> None:
    assert cli("run-jobs").exit_code == 0
    largest = str(2**63 - 1)
    assert cli("list", "--limit", largest, "--offset", largest).exit_code == 0
    assert cli("show", largest).exit_code == 3


def test_years_before_1000_keep_four_digits_so_they_sort_before_later_times(
    workspace: Workspace, cli: Invoke
) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    assert cli("run-jobs").exit_code == 0
    listed = json.loads(cli("list", "--since", "0999-01-01", "--format", "json").stdout)
    assert len(listed) == 1


@pytest.mark.parametrize(
    "text",
    [
        "jobs: {batch_size: 100000000000000000000}",
        "jobs: {batch_size: 1.0e+20}",
        "jobs: {interval: 100000000000000000000}",
        "sequence: {last: 100000000000000000000000}",
        "sequence: {width: 100000000}",
        "sequence: {width: 3, last: 1000}",
        "validation: {max_lengths: {email: 100000000000000000000}}",
        "attributes: [{name: size, type: integer, min: .nan}]",
        "attributes: [{name: size, type: integer, max: " + "9" * 400 + "}]",
    ],
)
def test_config_numbers_out_of_bounds_name_the_key(tmp_path: Path, text: str) -> None:
    path = tmp_path / "custsync.yaml"
    path.write_text("channels: []\n" + text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    key = text.split(":")[0]
    assert key in raised.value.message


def test_sequence_width_alone_sets_the_last_number(tmp_path: Path) -> None:
    path = tmp_path / "custsync.yaml"
    path.write_text("channels: []\nsequence: {width: 3}\n", encoding="utf-8")
    assert load_config(path).sequence.last == 999


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: " + "[" * 50_000, "nested deeper than"),
        ("a: " + "{b: " * 50_000, "nested deeper than"),
        (alias_bomb(), "aliases expand"),
    ],
)
def test_hostile_yaml_is_refused_by_the_one_loader(text: str, problem: str) -> None:
    import yaml

    with pytest.raises(yaml.YAMLError, match=problem):
        yamlio.load(text)


def test_ordinary_anchors_and_nesting_still_load() -> None:
    text = "base: &base {currencies: [SEK, EUR]}\nother: *base\ndeep: " + "[" * 30 + "]" * 30
    data = yamlio.load(text)
    assert data["other"] == {"currencies": ["SEK", "EUR"]}


@pytest.mark.parametrize("kind", ["deep", "bomb", "zero"])
def test_hostile_config_files_end_with_one_line(workspace: Workspace, kind: str) -> None:
    path = workspace.root / "hostile.yaml"
    if kind == "deep":
        path.write_text("a: " + "[" * 50_000, encoding="utf-8")
    elif kind == "bomb":
        path.write_text(alias_bomb(), encoding="utf-8")
    config = "/dev/zero" if kind == "zero" else str(path)
    # The timeout only turns a hang into a failure; nothing here depends on running time.
    result = workspace.run("--config", config, "status", timeout=60)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_load_ops_refuses_an_alias_bomb_and_writes_nothing(workspace: Workspace) -> None:
    source = workspace.root / "ops.yaml"
    source.write_text(
        alias_bomb(8)
        + "ops:\n  - async_account: a-1\n    operation: create_customer\n    fields: {x: *h}\n",
        encoding="utf-8",
    )
    database = workspace.root / "channels" / "bomb.db"
    result = workspace.run("load-ops", str(source), "--database", str(database))
    assert result.returncode == 2, result.stderr
    assert "aliases expand" in result.stderr
    if database.exists():
        conn = sqlite3.connect(database)
        assert conn.execute("SELECT count(*) FROM async_customer_operation").fetchone()[0] == 0
        conn.close()


def test_a_config_naming_a_key_twice_is_refused_with_the_line(workspace: Workspace) -> None:
    workspace.config_path.write_text("store: a.db\nchannels: []\nstore: b.db\n", "utf-8")
    result = workspace.run("status")
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"custsync: error: {workspace.config_path}: malformed YAML at line 3, column 1:"
        " duplicate key 'store' on line 3 (first on line 1)\n"
    )
    assert not (workspace.root / "a.db").exists() and not (workspace.root / "b.db").exists()


def test_duplicate_keys_are_refused_by_the_one_loader_but_merges_still_override() -> None:
    import yaml

    with pytest.raises(yaml.YAMLError, match="duplicate key 'a' on line 1"):
        yamlio.load("{a: 1, b: 2, a: 3}")
    with pytest.raises(yaml.YAMLError, match="duplicate key 'city' on line 4"):
        yamlio.load("- fields:\n    city: Lund\n    zip: '1'\n    city: Malmo\n")
    merged = yamlio.load("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n")
    assert merged["d"] == {"x": 3, "y": 2}


def test_load_ops_refuses_a_field_given_twice_and_writes_nothing(workspace: Workspace) -> None:
    source = workspace.root / "ops.yaml"
    source.write_text(
        "- async_account: a-1\n  operation: create_customer\n"
        "  fields: {first_name: Anna, last_name: Berg, email: anna@example.se,"
        " email: other@example.se}\n",
        encoding="utf-8",
    )
    database = workspace.root / "channels" / "twice.db"
    result = workspace.run("load-ops", str(source), "--database", str(database))
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"custsync: error: {source}: malformed YAML at line 3, column 71:"
        " duplicate key 'email' on line 3 (first on line 3)\n"
    )
    assert not database.exists()


def test_renamed_sequence_stops_before_reusing_an_account(
    workspace: Workspace, cli: Invoke
) -> None:
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    assert cli("run-jobs").exit_code == 0
    workspace.write_config(sequence={"name": "renamed"})
    created = web.add("a-2", "create_customer", person("Erik", "Lund"))
    result = cli("run-jobs")
    assert result.exit_code == 2
    assert "UNIQUE" not in result.stderr
    assert "C000001" in result.stderr and "'customer_account'" in result.stderr
    conn = workspace.store()
    status = conn.execute(
        "SELECT status FROM operations WHERE replication_counter = ?", (created,)
    ).fetchone()[0]
    names = [row[0] for row in conn.execute("SELECT name FROM number_sequences")]
    conn.close()
    assert status == "pending" and names == ["customer_account"]
    workspace.write_config(sequence={"name": "renamed", "first": 2})
    assert cli("run-jobs").exit_code == 0
