"""Administration commands: ``backup`` copies the store and checks the copy; ``archive``."""

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
    app.command("archive", rich_help_panel=PANEL)(archive)


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


def archive(
    before: Annotated[
        str,
        typer.Option(
            "--before",
            metavar="TIME",
            help="Archive finished history older than this: 90d, 12w, or a date (2026-01-01).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be archived; change nothing.")
    ] = False,
    vacuum: Annotated[
        bool,
        typer.Option("--vacuum", help="Afterwards give the freed space back to the file system."),
    ] = False,
    output_format: Annotated[
        OutputFormat, format_option(TEXT_OR_JSON, help="json prints what was archived.")
    ] = OutputFormat.text,
) -> None:
    """Move finished history (synced and distributed, or discarded) into a sealed archive file.

    The archive (SQLite, 0600, in retention.folder, default archive/ beside the store) holds
    the operations, their fields and their audit events; the store records it and its chain
    goes on from the archive's end. 'custsync audit verify --archives' checks every archive.

    Example: custsync archive --before 90d --dry-run
    """
    from custsync_cli.jobs.archive import archive_history
    from custsync_cli.output.archive import archive_lines
    from custsync_cli.output.console import message
    from custsync_cli.output.render import print_json
    from custsync_cli.store.lock import run_lock
    from custsync_cli.timeutil import parse_moment

    cutoff = parse_moment(before)
    config = state.load()
    with state.open_store(config) as store, run_lock(store.path, purpose="archive"):
        report = archive_history(
            store,
            cutoff,
            config.retention.folder,
            dry_run=dry_run,
            vacuum_after=vacuum,
            on_leftover=lambda path: message(
                f"{'would remove' if dry_run else 'removed'} {path}, left by an archive run"
                " that did not finish"
            ),
        )
    if output_format is OutputFormat.json:
        print_json(report.as_dict())
    for line in archive_lines(report):
        message(line)
