"""Long listings on a terminal go through a pager, as git's do; piped output never does."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator

from custsync_cli.output.console import stdout_is_terminal

DEFAULT_PAGER = "less -FRX"
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def pager_command() -> list[str] | None:
    """The pager to run: ``CUSTSYNC_PAGER``, else ``PAGER``, else less; None when set empty."""
    for name in ("CUSTSYNC_PAGER", "PAGER"):
        if name in os.environ:
            value = os.environ[name]
            break
    else:
        value = DEFAULT_PAGER
    try:
        command = shlex.split(value)
    except ValueError:  # an unclosed quote: print rather than guess
        return None
    return command if command and command != ["cat"] else None


class _Screen(io.StringIO):
    """Holds what a command prints for the terminal, so the pager gets it all or none of it."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]  # StringIO's is None
        return self._encoding

    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def paged(*, enabled: bool = True) -> Iterator[None]:
    """Page what is printed on stdout inside, when stdout is a terminal and it is too tall.

    Messages on stderr are not held. If the pager cannot start or fails, the output is
    printed as it would have been without one.
    """
    command = pager_command() if enabled and stdout_is_terminal() else None
    if command is None:
        yield
        return
    terminal = sys.stdout
    screen = _Screen(getattr(terminal, "encoding", None) or "utf-8")
    sys.stdout = screen
    try:
        yield
    except BaseException:
        sys.stdout = terminal
        terminal.write(screen.getvalue())  # what was printed before the error still shows
        terminal.flush()
        raise
    sys.stdout = terminal
    text = screen.getvalue()
    if not (_taller_than_terminal(text, terminal) and _run_pager(command, text, screen.encoding)):
        terminal.write(text)
        terminal.flush()


def _taller_than_terminal(text: str, terminal: object) -> bool:
    from rich.cells import cell_len

    try:
        size = os.get_terminal_size(terminal.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return True
    columns = max(size.columns, 1)
    rows = 0
    for line in text.splitlines():
        rows += max(-(-cell_len(_ESCAPE_SEQUENCE.sub("", line)) // columns), 1)
        if rows >= size.lines:  # the last line is the shell's prompt
            return True
    return False


def _run_pager(command: list[str], text: str, encoding: str) -> bool:
    """Whether the pager ran and ended well; False leaves the printing to the caller."""
    import signal

    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    try:
        pager = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
    except OSError:  # missing, or not executable
        return False
    assert pager.stdin is not None
    # ^C belongs to the pager while it runs (less uses it to stop a search), as with git.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with contextlib.suppress(BrokenPipeError):  # the reader quit before the end (q in less)
            pager.stdin.write(text.encode(encoding, "replace"))
        with contextlib.suppress(BrokenPipeError):
            pager.stdin.close()
        code = pager.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return code == 0
