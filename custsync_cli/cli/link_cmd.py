"""``custsync link``: a failed create ends synced onto an existing HQ customer."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.completion import complete_failed_operation
from custsync_cli.cli.formats import format_option
from custsync_cli.config import MAX_INTEGER
from custsync_cli.output.render import TABLE_OR_JSON, OutputFormat


def link_command(
    op: Annotated[
        int,
        typer.Argument(
            metavar="OP",
            max=MAX_INTEGER,
            help="The failed create_customer operation.",
            autocompletion=complete_failed_operation,
        ),
    ],
    to: Annotated[
        str,
        typer.Option("--to", metavar="ACCOUNT", help="The existing HQ customer account."),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why: recorded in the audit log (required).")
    ] = None,
    apply_fields: Annotated[
        bool,
        typer.Option(
            "--apply-fields",
            help="Apply the operation's differing values to the customer (checked; newer"
            " HQ values are kept).",
        ),
    ] = False,
    resync_now: Annotated[
        bool,
        typer.Option(
            "--resync", help="Sync the released operations and distribute the account now."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0, help="Seconds to wait for another run's lock before exit 75."
        ),
    ] = 0.0,
    output_format: Annotated[
        OutputFormat, format_option(TABLE_OR_JSON, help="table for people, json for scripts.")
    ] = OutputFormat.table,
) -> None:
    """Resolve a failed create (e.g. a duplicate email) onto an existing HQ customer.

    The operation ends synced onto ACCOUNT instead of creating a customer; its async
    customer maps to ACCOUNT from then on, the operations blocked behind it are released
    (synced now with --resync, else by the next run) and the distribute job writes ACCOUNT
    back to the channel. The operation's values that differ from the customer's are listed
    and not applied, unless --apply-fields. Takes the run lock; audited as linked.
    Exit codes: 1 not a failed create_customer, or its values would fail; 3 unknown
    operation or account; 4 (--resync) some released operations failed; 75 busy.

    Example: custsync link 17 --to C000006 --reason "signed up online and at the till"
    """
    from custsync_cli.errors import ExitCode
    from custsync_cli.output.render import print_json
    from custsync_cli.repair.link import link
    from custsync_cli.store.lock import run_lock

    config = state.load()
    with state.open_store(config) as store:
        ctx = state.job_context(config, store)
        lock = run_lock(state.store_path(config), wait=wait, purpose="link")
        with lock, ctx.stop.handling_signals():
            result = link(
                ctx,
                op,
                to.strip(),
                reason,
                channels=list(config.channels),
                apply_fields=apply_fields,
                resync_now=resync_now,
                dry_run=dry_run,
            )
    if output_format is OutputFormat.json:
        print_json(result.as_dict())
    else:
        from custsync_cli.output.link import print_link
        from custsync_cli.output.repair import print_resync

        print_link(result)
        if result.resync is not None:
            print_resync(result.resync, output_format)
    if result.resync is not None and not result.resync.all_synced:
        raise typer.Exit(ExitCode.SOME_FAILED)
