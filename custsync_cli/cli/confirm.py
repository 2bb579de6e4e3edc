"""Asking before a repair that changes many operations: on a terminal, or refused without one."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer


def confirm_or_stop(
    question: str,
    *,
    refusal: str,
    declined: str,
    yes: bool,
    before: Callable[[], None] | None = None,
) -> None:
    """Return when ``--yes`` was given or the operator agrees; otherwise stop, exit 1 or 2.

    Without a terminal to ask on, ``refusal`` is the usage error (exit 2). ``before`` shows
    what the question is about, only when it is asked.
    """
    from custsync_cli.errors import ExitCode, UsageError
    from custsync_cli.output.console import message

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(refusal)
    if before is not None:
        before()
    if not typer.confirm(question, default=False, err=True):
        message(declined)
        raise typer.Exit(ExitCode.ERROR)


def ask_to_reopen(error: str) -> bool:
    """On a terminal, show why the document does not apply and ask whether to edit it again."""
    from rich.markup import escape

    from custsync_cli.output.console import message

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    message(escape(f"the edit cannot be saved: {error}"))
    return typer.confirm("Reopen the editor to fix it?", default=True, err=True)
