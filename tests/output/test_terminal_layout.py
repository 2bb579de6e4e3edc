"""On a real terminal of 100 and 60 columns: no column dropped silently, no value split."""

from __future__ import annotations

import re

import pytest

from tests.helpers import TerminalResult, Workspace, run_in_terminal
from tests.output.conftest import ASYNC_ACCOUNT, LONG_EMAIL

LIST_HEADINGS = (
    "id",
    "channel",
    "customer account",
    "async customer account",
    "timestamp",
    "status",
    "operation",
    "last error",
)
AUDIT_HEADINGS = (
    "event",
    "at (UTC)",
    "actor",
    "action",
    "operation",
    "customer account",
    "channel",
    "details",
)


def on_terminal(ws: Workspace, *args: str, columns: int) -> TerminalResult:
    # No pager: these tests read the screen; the pager has its own tests.
    result = run_in_terminal(
        list(args), columns=columns, env=ws.env(CUSTSYNC_PAGER=""), cwd=ws.root
    )
    assert result.exit_code == 0, result.stderr
    return result


def assert_never_split(screen: str, value: str) -> None:
    """Every place ``value`` starts on screen shows it whole, or cut short with an ellipsis."""
    starts = [m.start() for m in re.finditer(re.escape(value[:8]), screen)]
    assert starts, f"{value} not on screen:\n{screen}"
    for start in starts:
        shown = screen[start : start + len(value) + 1]
        if shown.startswith(value):
            continue
        cut = shown.split("…")[0]
        assert "…" in shown and value.startswith(cut), f"{value} split:\n{screen}"


@pytest.mark.parametrize("columns", [100, 60])
def test_list_wide_keeps_every_column_and_whole_values(long_shop: Workspace, columns: int) -> None:
    result = on_terminal(long_shop, "list", "--wide", "--limit", "5", columns=columns)
    for heading in LIST_HEADINGS:
        assert heading in " ".join(header_words(result)), result.screen
    rows = [line for line in result.plain_lines if re.match(r"^ *\d+ ", line)]
    assert len(rows) == 5, result.screen  # one line each: nothing wrapped inside a cell
    assert "too narrow" not in result.stderr
    assert "" not in [line.strip() for line in result.plain_lines[2:-1]], result.screen


def header_words(result: TerminalResult) -> list[str]:
    """The words of a table's heading, which may wrap over lines above its rule."""
    words: list[str] = []
    for line in result.plain_lines:
        if "──" in line:
            return words
        words += line.split()
    raise AssertionError(f"no table:\n{result.screen}")


def hidden_columns(stderr: str) -> list[str]:
    match = re.search(r"^too narrow for (.*): widen the terminal or use --wide$", stderr, re.M)
    return match.group(1).split(", ") if match else []


def test_list_says_which_columns_a_narrow_terminal_left_out(long_shop: Workspace) -> None:
    result = on_terminal(long_shop, "list", "--status", "failed", columns=60)
    assert max(len(line) for line in result.plain_lines) <= 60
    hidden = hidden_columns(result.stderr)
    assert hidden, result.stderr
    words = header_words(result)
    for heading in LIST_HEADINGS:
        shown = all(word in words for word in heading.split())
        assert shown == (heading not in hidden), (heading, result.screen)


@pytest.mark.parametrize("columns", [100, 60])
def test_audit_names_the_columns_it_leaves_out_and_wide_keeps_them(
    long_shop: Workspace, columns: int
) -> None:
    narrow = on_terminal(long_shop, "audit", "--limit", "5", columns=columns)
    hidden = hidden_columns(narrow.stderr)
    assert hidden, narrow.stderr  # the audit table is wider than either terminal
    words = header_words(narrow)
    for heading in AUDIT_HEADINGS:
        shown = all(word in words for word in heading.split())
        assert shown == (heading not in hidden), (heading, narrow.screen)
    assert "details" not in hidden
    assert max(len(line) for line in narrow.plain_lines) <= columns

    wide = on_terminal(long_shop, "audit", "--limit", "5", "--wide", columns=columns)
    for heading in AUDIT_HEADINGS:
        assert heading in " ".join(header_words(wide)), wide.screen
    assert "too narrow" not in wide.stderr


@pytest.mark.parametrize("columns", [100, 60])
def test_show_never_splits_an_email_or_guid(long_shop: Workspace, columns: int) -> None:
    for args in (["show", "1"], ["customer", "show", "C000001"]):
        result = on_terminal(long_shop, *args, columns=columns)
        assert max(len(line) for line in result.plain_lines) <= columns
        assert_never_split(result.plain, LONG_EMAIL)
        assert_never_split(result.plain, ASYNC_ACCOUNT)
