"""Off a terminal every message and every table row is one line with no trailing blanks."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Workspace, person
from tests.output.conftest import ASYNC_ACCOUNT, LONG_EMAIL

# Unset, narrower than any line, and wider than most: the output must not change with it.
COLUMNS_VALUES = (None, "40", "200")


def env_with(ws: Workspace, columns: str | None) -> dict[str, str]:
    env = ws.env()
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = columns
    return env


def assert_whole_lines(text: str) -> None:
    for line in text.splitlines():
        assert line == line.rstrip(), f"trailing blanks: {line!r}"


def failed_id(ws: Workspace) -> int:
    with ws.store() as conn:
        row = conn.execute("SELECT id FROM operations WHERE status = 'failed'").fetchone()
    return int(row[0])


def long_error(ws: Workspace) -> str:
    with ws.store() as conn:
        row = conn.execute("SELECT last_error FROM operations WHERE status = 'failed'").fetchone()
    assert len(row[0]) > 120
    return str(row[0])


READ_COMMANDS = {
    "list": ["list", "--limit", "100"],
    "list --wide": ["list", "--wide", "--limit", "100"],
    "show": ["show", "{failed}"],
    "show synced": ["show", "1"],
    "customer show": ["customer", "show", "C000001"],
    "audit": ["audit", "--limit", "200"],
    "status": ["status"],
    "jobs": ["jobs", "--wide"],
}


@pytest.mark.parametrize("name", sorted(READ_COMMANDS))
def test_piped_tables_do_not_wrap_or_pad_whatever_columns_says(
    long_shop: Workspace, name: str
) -> None:
    args = [a.format(failed=failed_id(long_shop)) for a in READ_COMMANDS[name]]
    outputs = []
    for columns in COLUMNS_VALUES:
        result = long_shop.run(*args, env=env_with(long_shop, columns))
        assert result.returncode == 0, result.stderr
        assert_whole_lines(result.stdout)
        assert_whole_lines(result.stderr)
        for message in result.stderr.splitlines():
            assert not message.startswith(" "), result.stderr  # no continuation lines
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    text = outputs[0]
    if name in ("show synced", "customer show", "list", "list --wide"):
        assert any(LONG_EMAIL in line or ASYNC_ACCOUNT in line for line in text.splitlines())
    if name.startswith("show synced") or name == "customer show":
        assert any(LONG_EMAIL in line for line in text.splitlines()), text
    if name in ("show", "list --wide"):
        assert any(long_error(long_shop) in line for line in text.splitlines()), text
    if name.startswith("list"):
        rows = [line for line in text.splitlines() if re.match(r"^\d+ +\|", line)]
        assert len(rows) == 63  # one line per operation


@pytest.mark.parametrize("columns", COLUMNS_VALUES)
def test_run_jobs_summary_is_one_line(workspace: Workspace, columns: str | None) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    result = workspace.run("run-jobs", env=env_with(workspace, columns))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"run-jobs ok: pulled 1, synced 1, failed 0, blocked 0, distributed 1 in [\d.]+ s\n",
        result.stderr,
    ), result.stderr


@pytest.mark.parametrize("columns", COLUMNS_VALUES)
def test_backup_line_is_one_line(workspace: Workspace, columns: str | None) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    assert workspace.run("run-jobs").returncode == 0
    target = workspace.root / "backups-kept-for-the-quarterly-audit" / "custsync-2026-11-20.db"
    target.parent.mkdir()
    result = workspace.run("backup", str(target), env=env_with(workspace, columns))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        rf"backup {re.escape(str(target))}: \d+ bytes, integrity ok,"
        r" audit chain ok \(\d+ events\)\n",
        result.stderr,
    ), result.stderr


@pytest.mark.parametrize("columns", COLUMNS_VALUES)
def test_resync_warning_is_one_line(workspace: Workspace, columns: str | None) -> None:
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person(currency="ZZZ"))
    assert workspace.run("run-jobs").returncode == 0
    edited = workspace.run("edit", "1", "--set", "currency=SEK", "--reason", "typo at the till")
    assert edited.returncode == 0, edited.stderr
    # The channel cannot take the account back: its database was overwritten.
    web.path.write_bytes(b"this is not a database\n" * 100)
    result = workspace.run("resync", "1", env=env_with(workspace, columns))
    assert_whole_lines(result.stdout)
    warnings = [line for line in result.stderr.splitlines() if "not distributed" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("not distributed to web-se: "), result.stderr
    assert len(warnings[0]) > 40
    for line in result.stderr.splitlines():
        assert line == line.rstrip() and not line.startswith(" "), result.stderr
