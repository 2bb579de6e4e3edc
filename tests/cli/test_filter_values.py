"""Filter values outside their closed set are refused (exit 2), through the installed command."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import yaml

from tests.cli.conftest import Shop
from tests.helpers import Workspace


def test_a_misspelt_error_code_is_refused_with_the_closest_code(shop: Shop) -> None:
    result = shop.workspace.run("list", "--error-code", "invalid_emial")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().endswith(
        "--error-code: unknown error code 'invalid_emial'; did you mean invalid_email?"
    )
    assert "Traceback" not in result.stderr


def test_an_unknown_channel_is_refused_naming_the_valid_ones(shop: Shop) -> None:
    result = shop.workspace.run("list", "--channel", "nosuch", "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--channel: unknown channel 'nosuch' (valid: store-042, web-se)" in result.stderr


def test_a_channel_only_the_store_knows_is_still_valid(shop: Shop, tmp_path: Path) -> None:
    # A channel dropped from the config keeps its operations, and they can still be listed.
    store = tmp_path / "custsync.db"
    shutil.copy(shop.workspace.store_path, store)
    config = tmp_path / "custsync.yaml"
    config.write_text(
        yaml.safe_dump({"store": str(store), "channels": [{"name": "web-se", "database": "w.db"}]}),
        encoding="utf-8",
    )
    env = shop.workspace.env(CUSTSYNC_CONFIG=str(config))
    result = shop.workspace.run("list", "--channel", "store-042", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed and {op["channel"] for op in listed} == {"store-042"}


def test_an_operation_type_only_the_store_knows_is_still_valid(workspace: Workspace) -> None:
    # A channel sent a type custsync cannot apply: it failed, and it can be listed by its type.
    workspace.channel("web-se").add("odd-1", "frobnicate", {"email": "odd@example.se"})
    assert workspace.run("run-jobs").returncode in (0, 1)
    result = workspace.run("list", "--operation", "frobnicate", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [op["operation"] for op in listed] == ["frobnicate"]
    refused = workspace.run("list", "--operation", "frobnicat")
    assert refused.returncode == 2
    assert "did you mean frobnicate?" in refused.stderr


def test_a_valid_value_that_matches_nothing_exits_0(shop: Shop) -> None:
    result = shop.workspace.run("list", "--error-code", "sequence_exhausted")
    assert result.returncode == 0
    assert "no operations match" in result.stderr


def test_every_command_with_filters_refuses_unknown_values(shop: Shop) -> None:
    before = _snapshot(shop)
    for args in (
        ["edit", "--channel", "nosuch", "--set", "email=a@example.se", "--reason", "r", "--yes"],
        ["resync", "--error-code", "invalid_emial", "--yes"],
    ):
        result = shop.workspace.run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "unknown" in result.stderr
    assert _snapshot(shop) == before


def test_audit_refuses_an_unknown_action_with_the_closest_one(shop: Shop) -> None:
    result = shop.workspace.run("audit", "--action", "edit")
    assert result.returncode == 2
    assert "--action: unknown action 'edit'; did you mean edited?" in result.stderr
    nothing_close = shop.workspace.run("audit", "--action", "zzz")
    assert nothing_close.returncode == 2
    valid = "(valid: blocked, discarded, distributed, edited, linked, pulled,"
    assert valid in nothing_close.stderr
    assert shop.workspace.run("audit", "--action", "watermark_reset").returncode == 0


def _snapshot(shop: Shop) -> list[tuple[object, ...]]:
    with sqlite3.connect(shop.workspace.store_path) as conn:
        rows = conn.execute("SELECT id, status, version FROM operations ORDER BY id").fetchall()
        events = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    return [*rows, events]
