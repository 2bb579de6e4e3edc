"""Consoles: data to stdout, messages and progress to stderr, colour only when it helps."""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cache
from typing import TYPE_CHECKING

from custsync_cli.output.visible import visible

if TYPE_CHECKING:
    from rich.console import Console

_no_color_flag = False


def set_no_color(value: bool) -> None:
    global _no_color_flag
    _no_color_flag = value
    stdout_console.cache_clear()
    stderr_console.cache_clear()


def color_disabled() -> bool:
    return _no_color_flag or "NO_COLOR" in os.environ


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@cache
def stdout_console() -> Console:
    from rich.console import Console

    return Console(no_color=color_disabled(), highlight=False, soft_wrap=False)


@cache
def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, no_color=color_disabled(), highlight=False)


def message(text: str) -> None:
    """A message for the operator, on stderr (Rich markup allowed)."""
    text = visible(text, keep_newlines=True)
    if prints_as_is(text):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        return
    stderr_console().print(text)


def prints_as_is(text: str) -> bool:
    """Whether Rich would print ``text`` unchanged on one line, so it need not be imported.

    That holds for printable ASCII with no markup (``[``), no emoji codes (``:``), no
    surrounding blanks, and shorter than any width Rich could pick: ``COLUMNS``, the size of
    a terminal on stdin, stdout or stderr, or its default of 80. Once Rich is in use (a table,
    a live progress display) it prints every message, so that it can keep them in order.
    """
    if "rich.console" in sys.modules:
        return False
    if not (text and text.isascii() and text.isprintable() and text == text.strip()):
        return False
    if "[" in text or ":" in text:
        return False
    widths = [80]
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        widths.append(int(columns))
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError, ValueError):  # not a terminal
            widths.append(os.get_terminal_size(fd).columns or 80)
    return len(text) < min(widths)


def error(text: str) -> None:
    """The one-line error every failing command ends with."""
    from rich.markup import escape

    text = escape(visible(text, keep_newlines=True))
    stderr_console().print(f"[bold red]custsync: error:[/] {text}", soft_wrap=True)


def line(text: str) -> None:
    """A plain line of a command's report on stdout, quoting values safely."""
    sys.stdout.write(visible(text, keep_newlines=True) + "\n")
