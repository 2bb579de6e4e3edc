"""Consoles: data to stdout, messages and progress to stderr, colour only when it helps."""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING

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
    stderr_console().print(text)


def error(text: str) -> None:
    """The one-line error every failing command ends with."""
    from rich.markup import escape

    stderr_console().print(f"[bold red]custsync: error:[/] {escape(text)}", soft_wrap=True)
