"""The `custsync` command: global options, command groups, errors turned into exit codes."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Annotated

import typer

from custsync_cli import __version__
from custsync_cli.cli import state
from custsync_cli.errors import CustsyncError, ExitCode

app = typer.Typer(
    name="custsync",
    help=(
        "Audit and repair the asynchronous synchronization of customer operations between"
        " sales channels and headquarters.\n\nExample: custsync demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custsync {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            envvar="CUSTSYNC_CONFIG",
            help="Config file (default ./custsync.yaml).",
            show_default=False,
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="CUSTSYNC_DB", help="Audit store, overriding the config's 'store'."
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            envvar="CUSTSYNC_ACTOR",
            help="Name recorded in the audit log (default: your login name).",
        ),
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also: NO_COLOR set).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command."""
    state.options.config = config
    state.options.db = db
    state.options.actor = actor
    if no_color:
        from custsync_cli.output.console import set_no_color

        set_no_color(True)


def _register() -> None:
    # Registration order is the order of the help panels: Audit, Repair, Jobs, Setup.
    from custsync_cli.cli import (
        admin_cmds,
        audit_cmds,
        jobs_cmds,
        repair_cmds,
        setup_cmds,
        status_cmds,
    )

    for module in (audit_cmds, repair_cmds, jobs_cmds, status_cmds, setup_cmds, admin_cmds):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


def run(argv: list[str] | None = None) -> int:
    """Run the app and turn every failure into a one-line message and an exit code."""
    import click
    import typer.exceptions

    from custsync_cli.output.console import error

    # Recent Typer releases raise their own copy of Click's exceptions.
    usage_errors: tuple[type[Exception], ...] = (click.ClickException,)
    try:
        from typer._click.exceptions import ClickException as TyperClickException

        usage_errors += (TyperClickException,)
    except ImportError:
        pass

    code: int = ExitCode.OK
    try:
        result = app(args=argv, prog_name="custsync", standalone_mode=False)
        code = result if isinstance(result, int) else ExitCode.OK
    except (click.exceptions.Exit, typer.exceptions.Exit) as exc:
        code = exc.exit_code
    except usage_errors as exc:
        exc.show()  # type: ignore[attr-defined]
        exit_code = int(exc.exit_code)  # type: ignore[attr-defined]
        code = ExitCode.USAGE if exit_code == 2 else exit_code
    except (click.exceptions.Abort, typer.exceptions.Abort):
        error("aborted")
        code = ExitCode.INTERRUPTED
    except CustsyncError as exc:
        error(exc.message)
        code = exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = ExitCode.OK
    except sqlite3.Error as exc:
        error(f"database error: {exc}")
        code = ExitCode.ERROR
    except OSError as exc:
        error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        code = ExitCode.ERROR
    except Exception as exc:
        if os.environ.get("CUSTSYNC_DEBUG"):
            raise
        error(f"internal error: {type(exc).__name__}: {exc} (set CUSTSYNC_DEBUG=1 for details)")
        code = ExitCode.ERROR
    return code
