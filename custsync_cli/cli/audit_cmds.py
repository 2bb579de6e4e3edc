"""Read-side commands: ``list``, ``show``, ``customer show``, ``audit``, ``audit head|verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli import read, state
from custsync_cli.cli.completion import complete_failed_operation
from custsync_cli.cli.filters import FilterOptions, with_filters
from custsync_cli.cli.formats import format_option
from custsync_cli.cli.options import NoPager
from custsync_cli.cli.read import LIST_FORMATS, SHOW_FORMATS, catalogue_of
from custsync_cli.config import MAX_INTEGER
from custsync_cli.output.render import ROW_FORMATS, TABLE_OR_JSON, OutputFormat, table_time

PANEL = "Audit"
AUDIT_COLUMNS = (
    ("id", "event"),
    ("at", "at (UTC)"),
    ("actor", "actor"),
    ("action", "action"),
    ("operation_id", "operation"),
    ("customer_account", "customer account"),
    ("channel", "channel"),
    ("summary", "details"),
)
# On a narrow terminal these columns give way first, so that the details stay readable.
AUDIT_DROP_ORDER = ("channel", "customer_account", "actor", "at")


def register(app: typer.Typer) -> None:
    app.command("list", rich_help_panel=PANEL)(list_operations)
    app.command("show", rich_help_panel=PANEL)(show_operation)
    app.command("views", rich_help_panel=PANEL)(list_views)
    customer_app = typer.Typer(
        help="The HQ customer master, one customer at a time.\n\n"
        "Example: custsync customer show C000123",
        no_args_is_help=True,
    )
    customer_app.command("show")(show_customer)
    app.add_typer(customer_app, name="customer", rich_help_panel=PANEL)
    audit_app = typer.Typer(invoke_without_command=True)
    audit_app.callback()(audit_events)
    audit_app.command("head")(audit_head)
    audit_app.command("verify")(verify_audit)
    app.add_typer(audit_app, name="audit", rich_help_panel=PANEL)


def list_views(
    output_format: Annotated[
        OutputFormat, format_option(TABLE_OR_JSON, help="table for people, json for scripts.")
    ] = OutputFormat.table,
) -> None:
    """The saved views of the config (views: NAME: "filter options"), for --view NAME.

    Example: custsync list --view broken-web --since 2d
    """
    from custsync_cli.output.console import message
    from custsync_cli.output.render import render_rows

    config = state.load()
    rows = [{"name": view.name, "options": view.options} for view in config.views]
    if output_format is OutputFormat.table and not rows:
        message('no saved views: add views: {NAME: "--status failed"} to the config')
        return
    render_rows(rows, [("name", "name"), ("options", "options")], output_format)


@with_filters
def list_operations(
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=0, max=MAX_INTEGER, help="Show at most this many operations; 0: all."
        ),
    ] = 50,
    offset: Annotated[
        int,
        typer.Option(
            "--offset", min=0, max=MAX_INTEGER, help="Skip this many (for the next page)."
        ),
    ] = 0,
    output_format: Annotated[
        OutputFormat,
        format_option(LIST_FORMATS, help="table (default), json, jsonl, csv or tsv."),
    ] = OutputFormat.table,
    wide: Annotated[
        bool, typer.Option("--wide", help="Full last errors; never cut a column.")
    ] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Every match, however many (same as --limit 0).")
    ] = False,
    no_headers: Annotated[
        bool, typer.Option("--no-headers", help="No heading line in table, csv or tsv.")
    ] = False,
    no_pager: NoPager = False,
    *,
    filters: FilterOptions,
) -> None:
    """List operations, newest first, like the "Customer synchronization status" page.

    Example: custsync list --status failed --channel web-se --since 3d
    """
    read.list_operations(
        limit=limit,
        offset=offset,
        output_format=output_format,
        wide=wide,
        every=every,
        no_headers=no_headers,
        no_pager=no_pager,
        filters=filters,
    )


def show_operation(
    op: Annotated[
        int,
        typer.Argument(
            metavar="OP",
            max=MAX_INTEGER,
            help="Operation id (see 'custsync list').",
            autocompletion=complete_failed_operation,
        ),
    ],
    output_format: Annotated[
        OutputFormat, format_option(SHOW_FORMATS, help="table (default) or json.")
    ] = OutputFormat.table,
) -> None:
    """Show one operation: header, change description, field grid and history.

    Example: custsync show 42 --format json
    """
    read.show_operation(op=op, output_format=output_format)


def show_customer(
    account: Annotated[
        str,
        typer.Argument(metavar="ACCOUNT", help="HQ customer account or async customer account."),
    ],
    output_format: Annotated[
        OutputFormat, format_option(TABLE_OR_JSON, help="table (default) or json.")
    ] = OutputFormat.table,
) -> None:
    """Show an HQ customer with addresses and attributes, and every operation that shaped it.

    Example: custsync customer show C000123
    """
    from custsync_cli.errors import NotFoundError
    from custsync_cli.output.render import print_json
    from custsync_cli.output.show import render_customer
    from custsync_cli.store.views import customer_view

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        view = customer_view(store.conn, account.strip(), catalogue_of(config))
    if view is None:
        raise NotFoundError(f"no customer or async account '{account}'")
    if output_format is OutputFormat.json:
        print_json(view.as_dict())
    else:
        render_customer(view.as_dict())


def audit_events(
    ctx: typer.Context,
    op: Annotated[
        int | None,
        typer.Option("--op", metavar="ID", max=MAX_INTEGER, help="Events of this operation."),
    ] = None,
    actor: Annotated[
        list[str] | None,
        typer.Option("--actor", metavar="NAME", help="Events by this actor (repeatable)."),
    ] = None,
    action: Annotated[
        list[str] | None,
        typer.Option(
            "--action", metavar="ACTION", help="e.g. pulled, sync_failed, edited (repeatable)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help="From this time: ISO, 2h, 3d.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="TIME", help="Up to this time.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_INTEGER, help="At most this many events.")
    ] = 50,
    offset: Annotated[
        int, typer.Option("--offset", min=0, max=MAX_INTEGER, help="Skip this many.")
    ] = 0,
    output_format: Annotated[
        OutputFormat, format_option(ROW_FORMATS, help="table (default), json, jsonl, csv or tsv.")
    ] = OutputFormat.table,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column whole, however narrow the terminal.")
    ] = False,
    no_pager: NoPager = False,
) -> None:
    """The audit trail: every event, newest first; 'custsync audit verify' checks its hash chain.

    Example: custsync audit --op 42 --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from custsync_cli.domain.describe import describe_event
    from custsync_cli.output.console import message, stdout_is_terminal
    from custsync_cli.output.pager import paged
    from custsync_cli.output.render import render_rows
    from custsync_cli.store.views import AuditFilter, audit_page
    from custsync_cli.timeutil import parse_moment

    flt = AuditFilter(
        operation_id=op,
        actors=list(actor or []),
        actions=list(action or []),
        since=parse_moment(since) if since else None,
        until=parse_moment(until) if until else None,
    )
    config = state.load()
    with state.open_store(config, read_only=True) as store:
        flt.check(store.conn)
        events, total = audit_page(store.conn, flt, limit=limit, offset=offset)
        if op is not None and total == 0:
            from custsync_cli.store.archive import archive_holding

            if archive_holding(store.conn, op) is not None:
                with read.archived_connection(store, op) as conn:
                    events, total = audit_page(conn, flt, limit=limit, offset=offset)
    with paged(enabled=not no_pager):
        if output_format is OutputFormat.table:
            rows = [
                {
                    **event,
                    "at": table_time(event["at"]),
                    "summary": describe_event(event["action"], event["details"]),
                }
                for event in events
            ]
            render_rows(
                rows,
                AUDIT_COLUMNS,
                output_format,
                wide=wide or not stdout_is_terminal(),
                drop_order=AUDIT_DROP_ORDER,
            )
        else:
            keys = ("id", "at", "actor", "action", "operation_id", "customer_account", "channel")
            columns = [(key, key) for key in (*keys, "details", "hash")]
            render_rows(events, columns, output_format)
    note = read.more_note(len(events), total, offset, "audit events")
    if note:
        message(note)


def audit_head(
    output_format: Annotated[
        OutputFormat, format_option(TABLE_OR_JSON, help="table (default) or json.")
    ] = OutputFormat.table,
) -> None:
    """Print the audit chain's head as COUNT:HASH, to keep outside the store as a witness.

    A later 'custsync audit verify --expect COUNT:HASH' fails unless the chain still extends
    this head, even if the store itself was rewritten below it.

    Example: custsync audit head >> /mnt/witness/custsync-heads
    """
    from custsync_cli.output.render import print_json
    from custsync_cli.store.audit import chain_head, format_head

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        head = chain_head(store.conn)
    if output_format is OutputFormat.json:
        print_json({"events": head[0], "head_hash": head[1], "head": format_head(head)})
    else:
        typer.echo(format_head(head))


def verify_audit(
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            metavar="COUNT:HASH",
            help="Also fail unless the chain extends this head ('custsync audit head').",
        ),
    ] = None,
    with_archives: Annotated[
        bool,
        typer.Option(
            "--archives",
            help="Also check every archive file: its SHA-256, its chain segment, and that"
            " the segments join each other and the store.",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, format_option(TABLE_OR_JSON, help="table (default) or json.")
    ] = OutputFormat.table,
) -> None:
    """Check the audit trail: recompute the hash chain, then replay it against the records.

    Exit 1 naming the first bad event, or the first operation status, HQ customer or number
    sequence that its audit events do not explain. The store's chain is checked from the
    last archive's end; --archives checks the archives too.

    Example: custsync audit verify --expect 1234:9f86d081884c7d65...
    """
    from custsync_cli.errors import ExitCode
    from custsync_cli.jobs.archive import verify_archives
    from custsync_cli.output.render import print_json
    from custsync_cli.store.audit import parse_head
    from custsync_cli.store.replay import verify_trail

    head = parse_head(expect) if expect is not None else None
    config = state.load()
    with state.open_store(config, read_only=True) as store:
        result = verify_trail(store.conn, head)
        checks = verify_archives(store) if with_archives else []
    if output_format is OutputFormat.json:
        data = result.as_dict()
        if with_archives:
            data["archives"] = [check.as_dict() for check in checks]
        print_json(data)
    else:
        for check in checks:
            state_text = "ok" if check.ok else f"FAILED: {check.problem}"
            typer.echo(f"archive {check.file_name}: {state_text} ({check.events} events)")
    if output_format is OutputFormat.json:
        pass
    elif result.ok:
        typer.echo(f"audit chain ok: {result.events} events")
    elif result.bad_event_id is None:
        typer.echo(f"audit trail mismatch: {result.problem} ({result.events} events verified)")
    else:
        typer.echo(f"audit chain broken: {result.problem} ({result.events} events verified)")
    if not result.ok or not all(check.ok for check in checks):
        raise typer.Exit(ExitCode.ERROR)
