"""Administration commands: ``backup`` copies the store while jobs may run and checks the copy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.formats import format_option
from custsync_cli.output.render import TEXT_OR_JSON, OutputFormat

PANEL = "Setup"


def register(app: typer.Typer) -> None:
    app.command("backup", rich_help_panel=PANEL)(backup)


def backup(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="File to write the copy to (mode 0600).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists.")
    ] = False,
    output_format: Annotated[
        OutputFormat, format_option(TEXT_OR_JSON, help="json prints the check of the copy.")
    ] = OutputFormat.text,
) -> None:
    """Copy the audit store with SQLite's backup API, safe while jobs run, and check the copy.

    The copy is checked with PRAGMA integrity_check and the audit hash chain.

    Example: custsync backup /var/backups/custsync-$(date +%F).db
    """
    from custsync_cli.errors import ExitCode
    from custsync_cli.output.console import error, message
    from custsync_cli.output.render import print_json
    from custsync_cli.store.backup import backup_store

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        result = backup_store(store, path, force=force)
    if output_format is OutputFormat.json:
        print_json(result.as_dict())
    if not result.ok:
        problem = result.audit_problem if result.integrity == "ok" else result.integrity
        error(f"the backup {path} was written but fails its check: {problem}")
        raise typer.Exit(ExitCode.ERROR)
    message(
        f"backup {path}: {result.bytes} bytes, integrity ok,"
        f" audit chain ok ({result.audit_events} events)"
    )
