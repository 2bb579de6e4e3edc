"""The `custsync` command: parse the command line, run it, turn every failure into an exit code.

The Typer app (``app``, built in ``cli.typer_app``) is imported only when a command line needs it:
``cli.fast`` runs ``--version`` and the plainest ``list`` and ``show`` lines without it.
"""

from __future__ import annotations

import os
import sys

from custsync_cli.errors import CustsyncError, ExitCode

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing for --version
if TYPE_CHECKING:
    from typing import Any


def __getattr__(name: str) -> Any:
    # ``from custsync_cli.cli import app``: the app with every command, built on first use.
    if name == "app":
        from custsync_cli.cli.typer_app import make_app

        return make_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


def run(argv: list[str] | None = None) -> int:
    """Run the app and turn every failure into a one-line message and an exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader that went away shows up here, not at exit
    except SystemExit as exc:
        # Typer answers a broken pipe with exit 1 before the handler below can see it.
        if isinstance(exc.__context__, BrokenPipeError):
            return _broken_pipe()
        raise
    except (Exception, KeyboardInterrupt) as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        code = failure
    return code


def _dispatch(args: list[str]) -> int:
    from custsync_cli.cli import fast

    command = fast.parse(args)
    if command is not None:
        return command()
    from custsync_cli.cli.typer_app import run as run_typer

    result = run_typer(args)
    return result if isinstance(result, int) else ExitCode.OK


def _loaded(module: str, name: str) -> tuple[type[BaseException], ...]:
    # An exception can only come from a module that was imported; unimported ones are skipped,
    # so handling Click's and Typer's exceptions never imports them.
    found = getattr(sys.modules.get(module), name, None)
    return (found,) if isinstance(found, type) and issubclass(found, BaseException) else ()


def _broken_pipe() -> int:
    # The reader (e.g. `| head`) has what it wanted: quiet success, and no error at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.OK


def _failure(exc: BaseException) -> int | None:
    """The exit code for ``exc`` after its message, or None to let it propagate."""
    from custsync_cli.output.console import error

    # Typer 0.29 raises its own copies of Click's exceptions; older releases raise Click's.
    exits = _loaded("click.exceptions", "Exit") + _loaded("typer.exceptions", "Exit")
    usage_errors = _loaded("click.exceptions", "ClickException") + _loaded(
        "typer._click.exceptions", "ClickException"
    )
    aborts = _loaded("click.exceptions", "Abort") + _loaded("typer.exceptions", "Abort")
    sqlite_errors = _loaded("sqlite3", "Error")
    if isinstance(exc, exits):
        return int(exc.exit_code)  # type: ignore[attr-defined]
    if isinstance(exc, usage_errors):
        exc.show()  # type: ignore[attr-defined]
        exit_code = int(exc.exit_code)  # type: ignore[attr-defined]
        return ExitCode.USAGE if exit_code == 2 else exit_code
    if isinstance(exc, aborts):
        error("aborted")
        return ExitCode.INTERRUPTED
    if isinstance(exc, CustsyncError):
        error(exc.message)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        error("interrupted")
        return ExitCode.INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return _broken_pipe()
    if isinstance(exc, sqlite_errors):
        error(f"database error: {exc}")
        return ExitCode.ERROR
    if isinstance(exc, OSError):
        error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        return ExitCode.ERROR
    if os.environ.get("CUSTSYNC_DEBUG"):
        return None
    error(f"internal error: {type(exc).__name__}: {exc} (set CUSTSYNC_DEBUG=1 for details)")
    return ExitCode.ERROR
