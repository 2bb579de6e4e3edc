"""Messages that Rich would print unchanged are written without importing Rich, identically."""

from __future__ import annotations

import io
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from custsync_cli.output import console

ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=90)
any_text = st.text(max_size=40)


def rich_output(text: str, width: int, *, terminal: bool, no_color: bool) -> str:
    out = io.StringIO()
    rich = Console(
        file=out, width=width, force_terminal=terminal, no_color=no_color, highlight=False
    )
    rich.print(text)
    return out.getvalue()


@pytest.fixture
def without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process that has not imported Rich (this one has), off any terminal."""
    monkeypatch.delitem(sys.modules, "rich.console")

    def not_a_terminal(fd: int) -> os.terminal_size:
        raise OSError(fd, "not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", not_a_terminal)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(ascii_text, any_text))
def test_a_message_printed_as_is_is_what_rich_prints(without_rich: None, text: str) -> None:
    if not console.prints_as_is(text):
        return
    for terminal in (False, True):
        for no_color in (False, True):
            # The narrowest console the check allows: one column more than the text.
            printed = rich_output(text, len(text) + 1, terminal=terminal, no_color=no_color)
            assert printed == text + "\n"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("showing 50 of 9597; use --offset 50 for more", True),
        ("no operations match", True),
        ("[bold]markup[/]", False),
        ("an emoji :smile: code", False),
        ("tab\there", False),
        (" leading blank", False),
        ("trailing blank ", False),
        ("", False),
        ("non-ASCII é", False),
        ("x" * 79, True),
        ("x" * 80, False),
    ],
)
def test_what_is_printed_without_rich(
    without_rich: None, monkeypatch: pytest.MonkeyPatch, text: str, plain: bool
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert console.prints_as_is(text) is plain


def test_a_narrow_console_leaves_wrapping_to_rich(
    without_rich: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    assert console.prints_as_is("short enough")
    assert not console.prints_as_is("too long for twenty columns")
    monkeypatch.setenv("COLUMNS", "0")
    assert not console.prints_as_is("x")


def test_message_writes_plain_text_to_stderr(
    without_rich: None, capsys: pytest.CaptureFixture[str]
) -> None:
    console.message("no operations match")
    assert capsys.readouterr() == ("", "no operations match\n")


def test_once_rich_is_in_use_it_prints_every_message() -> None:
    assert "rich.console" in sys.modules
    assert not console.prints_as_is("no operations match")
