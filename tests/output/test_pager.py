"""Long listings on a terminal go through the pager, unless --no-pager, CUSTSYNC_PAGER= or piped."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.helpers import Workspace, run_in_terminal

RECORDER = """#!/bin/sh
printf '%s\\n' "$@" > "{record}.argv"
cat > "{record}.stdin"
"""


def recording_pager(root: Path) -> tuple[Path, Path]:
    """A pager that records its arguments and everything it is given; returns the two files."""
    record = root / "pager-record"
    script = root / "record-pager.sh"
    script.write_text(RECORDER.format(record=record))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


@pytest.mark.parametrize("command", [["list"], ["audit"], ["list", "--format", "json"]])
def test_a_long_listing_goes_through_the_pager_whole(
    long_shop: Workspace, tmp_path: Path, command: list[str]
) -> None:
    script, record = recording_pager(tmp_path)
    env = long_shop.env(CUSTSYNC_PAGER=f"{script} -S 'two words'", PAGER="false")
    paged = run_in_terminal(command, columns=100, rows=24, env=env, cwd=long_shop.root)
    assert paged.exit_code == 0, paged.stderr
    assert paged.screen == ""  # all of it went to the pager
    assert (record.with_suffix(".argv")).read_text() == "-S\ntwo words\n"
    given = (record.with_suffix(".stdin")).read_text()

    env = long_shop.env(CUSTSYNC_PAGER=str(script))
    direct = run_in_terminal(
        [*command, "--no-pager"], columns=100, rows=24, env=env, cwd=long_shop.root
    )
    assert direct.exit_code == 0
    assert given.replace("\r\n", "\n") == direct.screen
    assert len(direct.plain_lines) > 24
    assert paged.stderr == direct.stderr  # messages stay on the terminal, outside the pager


def test_an_empty_custsync_pager_turns_it_off_and_beats_pager(
    long_shop: Workspace, tmp_path: Path
) -> None:
    script, record = recording_pager(tmp_path)
    env = long_shop.env(CUSTSYNC_PAGER="", PAGER=str(script))
    result = run_in_terminal(["list"], columns=100, rows=24, env=env, cwd=long_shop.root)
    assert result.exit_code == 0
    assert len(result.plain_lines) > 24
    assert not record.with_suffix(".stdin").exists()

    env = long_shop.env(PAGER=str(script))
    env.pop("CUSTSYNC_PAGER", None)
    result = run_in_terminal(["list"], columns=100, rows=24, env=env, cwd=long_shop.root)
    assert result.screen == "" and record.with_suffix(".stdin").exists()


def test_short_output_and_piped_output_are_not_paged(long_shop: Workspace, tmp_path: Path) -> None:
    script, record = recording_pager(tmp_path)
    env = long_shop.env(CUSTSYNC_PAGER=str(script))
    short = run_in_terminal(
        ["list", "--limit", "3"], columns=100, rows=24, env=env, cwd=long_shop.root
    )
    assert short.exit_code == 0 and len(short.plain_lines) >= 5
    for fmt in ("table", "json", "csv"):
        piped = long_shop.run("list", "--format", fmt, env=env)
        assert piped.returncode == 0 and piped.stdout.count("\n") > 50
    assert not record.with_suffix(".stdin").exists()


@pytest.mark.parametrize("pager", ["/nonexistent/pager", "false", "sh -c 'exit 3'"])
def test_a_missing_or_failing_pager_loses_nothing(long_shop: Workspace, pager: str) -> None:
    env = long_shop.env(CUSTSYNC_PAGER=pager)
    result = run_in_terminal(["list"], columns=100, rows=24, env=env, cwd=long_shop.root)
    assert result.exit_code == 0, result.stderr
    direct = run_in_terminal(
        ["list", "--no-pager"], columns=100, rows=24, env=env, cwd=long_shop.root
    )
    assert result.screen == direct.screen and len(direct.plain_lines) > 50
    assert "Traceback" not in result.stderr and "error" not in result.stderr
