"""Setup commands: ``init``, ``demo`` and loading sample operations into a channel database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from custsync_cli.cli import state

PANEL = "Setup"


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(init)
    app.command(rich_help_panel=PANEL)(demo)
    app.command("load-ops", rich_help_panel=PANEL)(load_ops)


def init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")] = False,
) -> None:
    """Write a commented custsync.yaml and create the audit store.

    Example: custsync init && $EDITOR custsync.yaml
    """
    from importlib.resources import files

    from custsync_cli.config import find_config, load_config
    from custsync_cli.errors import UsageError
    from custsync_cli.output.console import message

    path = find_config(state.options.config)
    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite it)")
    template = files("custsync_cli").joinpath("templates/custsync.yaml").read_text("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template, encoding="utf-8")
    config = load_config(path)
    state.open_store(config, create=True).close()
    message(f"wrote {path} and created the store {state.store_path(config)}")
    message("next: list your channels in the config, then run 'custsync run-jobs'")


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", metavar="DIR", help="Folder for the demo (created if missing).")
    ] = Path("custsync-demo"),
) -> None:
    """Build a demo: config, three channel databases, one run of the jobs, and a summary.

    Running it again keeps the data and pulls nothing twice.

    Example: custsync demo --dir /tmp/demo
    """
    from custsync_cli.config import MAX_INTEGER, load_config
    from custsync_cli.demo import write_demo
    from custsync_cli.domain.runs import JOB_ORDER
    from custsync_cli.jobs.runner import run_jobs
    from custsync_cli.output.console import message
    from custsync_cli.output.status import render_demo_summary
    from custsync_cli.store.database import open_store
    from custsync_cli.store.lock import run_lock
    from custsync_cli.store.summary import status_summary

    created = write_demo(directory)
    config = load_config(directory / "custsync.yaml")
    for path in created:
        message(f"created channel database {path}")
    with run_lock(config.store), open_store(config.store, create=True) as store:
        ctx = state.job_context(config, store)
        report = run_jobs(ctx, list(JOB_ORDER), list(config.channels))
        message(report.summary_line())
        # Every error code, so that the hints can name an operation of the one they edit.
        summary = status_summary(store.conn, error_codes=MAX_INTEGER)
    render_demo_summary(summary, directory / "custsync.yaml")


def load_ops(
    source: Annotated[
        Path, typer.Argument(metavar="FILE", help="YAML file with a list of operations.")
    ],
    database: Annotated[
        Path,
        typer.Option(
            "--database", metavar="FILE", help="Channel database to append to (created if missing)."
        ),
    ],
) -> None:
    """Append sample operations from a YAML file to a channel database's outbox.

    Each item has async_account, operation, fields, and optionally created_at and created_by.

    Example: custsync load-ops examples/operations.yaml --database channels/web-se.db
    """
    from custsync_cli.channel_load import load_operations_file
    from custsync_cli.output.console import message

    count = load_operations_file(source, database)
    message(f"appended {count} operation(s) to {database}")
