"""Consoles: data to stdout, messages and progress to stderr, colour only when it helps."""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cache
from typing import IO, TYPE_CHECKING, TextIO, cast

from custsync_cli.output.visible import visible

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

# Off a terminal nothing wraps, whatever COLUMNS says: a line is as long as what it holds.
UNWRAPPED = 1_000_000

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

    if stdout_is_terminal():
        return Console(no_color=color_disabled(), highlight=False, soft_wrap=False)
    return _unwrapped_console(stderr=False)


@cache
def stderr_console() -> Console:
    from rich.console import Console

    if sys.stderr.isatty():
        return Console(stderr=True, no_color=color_disabled(), highlight=False)
    return _unwrapped_console(stderr=True)


def _unwrapped_console(*, stderr: bool) -> Console:
    """For a pipe or a file: one line per message or table row, no padding after it."""
    from rich.console import Console

    return Console(
        file=cast(IO[str], _TrimmedLines(stderr=stderr)),
        width=UNWRAPPED,
        no_color=color_disabled(),
        highlight=False,
        soft_wrap=True,
    )


class _TrimmedLines:
    """Writes to the current sys.stdout (or sys.stderr) without the blanks Rich pads lines with.

    Rich pads every cell to its column's width, the last one included; a line that ends in
    spaces only gets in the way of grep, diff and cut.
    """

    def __init__(self, *, stderr: bool) -> None:
        self.stderr = stderr
        self.pending = ""

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        if lines:
            self.stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()


def print_natural(renderable: RenderableType) -> None:
    """Print on stdout at the renderable's natural width, even past a terminal's edge.

    For tables that must show every column whole (``--wide``): the terminal wraps or a
    pager scrolls, but no column is squeezed away and no value is split inside its cell.
    """
    from rich.console import Console
    from rich.measure import Measurement

    console = stdout_console()
    if not stdout_is_terminal():
        console.print(renderable)
        return
    measured = Measurement.get(console, console.options.update_width(UNWRAPPED), renderable)
    width = max(measured.maximum, 1)
    if width <= console.width:
        console.print(renderable)
        return
    Console(
        width=width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # type: ignore[arg-type]
        no_color=color_disabled(),
        highlight=False,
        soft_wrap=False,
    ).print(renderable)


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
