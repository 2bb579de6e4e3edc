"""Repair commands: ``edit``, ``resync`` and ``discard`` of failed, blocked or pending work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.completion import (
    complete_failed_operation,
    complete_field,
    complete_field_name,
)
from custsync_cli.cli.filters import FilterOptions, with_filters
from custsync_cli.cli.options import (
    FormatOption,
    OperationIds,
    ReasonOption,
    WaitOption,
    YesOption,
)
from custsync_cli.config import MAX_INTEGER
from custsync_cli.output.render import OutputFormat

if TYPE_CHECKING:
    from custsync_cli.context import JobContext
    from custsync_cli.store.filters import OperationFilter

PANEL = "Repair"
SAMPLE_SIZE = 5


def register(app: typer.Typer) -> None:
    app.command("edit", rich_help_panel=PANEL)(edit_command)
    app.command("resync", rich_help_panel=PANEL)(resync_command)
    from custsync_cli.cli.discard_cmd import discard_command

    app.command("discard", rich_help_panel=PANEL)(discard_command)
    from custsync_cli.cli.link_cmd import link_command

    app.command("link", rich_help_panel=PANEL)(link_command)


@with_filters
def edit_command(
    op: Annotated[
        int | None,
        typer.Argument(
            metavar="OP",
            max=MAX_INTEGER,
            help="Operation id; or use filters for a bulk edit.",
            autocompletion=complete_failed_operation,
        ),
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="New value for a field (repeatable).",
            autocompletion=complete_field,
        ),
    ] = None,
    unset: Annotated[
        list[str] | None,
        typer.Option(
            "--unset",
            metavar="FIELD",
            help="Drop a field from the operation (repeatable).",
            autocompletion=complete_field_name,
        ),
    ] = None,
    reason: ReasonOption = None,
    expect_version: Annotated[
        int | None,
        typer.Option(
            "--expect-version",
            metavar="N",
            max=MAX_INTEGER,
            help="Refuse (exit 1) unless the operation is still at this version.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show the changes and whether they would pass; save nothing."
        ),
    ] = False,
    yes: YesOption = False,
    wait: WaitOption = 0.0,
    output_format: FormatOption = OutputFormat.table,
    *,
    filters: FilterOptions,
) -> None:
    """Change the new values of a failed, blocked or pending operation.

    The channel's original value is kept, and the status stays until you resync.
    The edit is validated at once: the command says whether the operation would pass.
    Without --set or --unset, $VISUAL or $EDITOR opens on a YAML document of the fields.
    With filters instead of OP, all matching operations are edited after a preview.
    --dry-run shows the changes and the verdict and saves nothing.
    Exit codes: 1 synced or discarded operation, or changed meanwhile; 2 unknown field.

    Examples:
      custsync edit 12 --set email=anna@example.se --reason "typo, confirmed by phone"
      custsync edit 12
      custsync edit --where country=SVE --set country=SWE --reason "ISO code" --dry-run
    """
    from custsync_cli.errors import UsageError
    from custsync_cli.repair.edit import parse_assignments

    sets = parse_assignments(set_values or [])
    unsets = list(unset or [])
    config = state.load()
    with state.open_store(config) as store:
        ctx = state.job_context(config, store)
        flt = filters.build(config, store.conn)
        if op is not None and not flt.is_empty():
            raise UsageError("give an operation id or filters, not both")
        if op is None:
            if flt.is_empty():
                raise UsageError("give an operation id, or filters for a bulk edit")
            if not sets and not unsets:
                raise UsageError("a bulk edit needs --set FIELD=VALUE or --unset FIELD")
            _bulk_edit(
                ctx,
                flt,
                sets,
                unsets,
                reason,
                yes=yes,
                wait=wait,
                dry_run=dry_run,
                fmt=output_format,
            )
            return
        if not sets and not unsets:
            if dry_run:
                raise UsageError("--dry-run needs --set FIELD=VALUE or --unset FIELD")
            _edit_in_editor(ctx, op, reason, output_format)
            return
        from custsync_cli.output.repair import print_edit
        from custsync_cli.repair import rehearsing
        from custsync_cli.repair.edit import edit_operation

        if dry_run:
            with rehearsing(ctx) as trial:
                result = edit_operation(
                    trial, op, sets, unsets, reason, expect_version=expect_version
                )
            result.dry_run = True
        else:
            result = edit_operation(ctx, op, sets, unsets, reason, expect_version=expect_version)
        print_edit(result, output_format)


def _edit_in_editor(ctx: JobContext, op_id: int, reason: str | None, fmt: OutputFormat) -> None:
    from custsync_cli.cli.confirm import ask_to_reopen
    from custsync_cli.errors import ConflictError
    from custsync_cli.output.console import message
    from custsync_cli.output.repair import print_edit
    from custsync_cli.repair import load_editable
    from custsync_cli.repair.edit import edit_operation
    from custsync_cli.repair.editor import (
        build_document,
        edit_folder,
        edit_interactively,
        editor_command,
        keep_edit,
    )
    from custsync_cli.store.operations import operation_errors

    editor_command()
    conn = ctx.store.conn
    (op,) = load_editable(conn, [op_id], "edited")
    catalogue = ctx.validator.catalogue
    document = build_document(op, operation_errors(conn, op.id), catalogue, reason)
    outcome = edit_interactively(
        document,
        op,
        catalogue,
        reason_given=reason,
        folder=edit_folder(ctx.store.path),
        reopen=ask_to_reopen,
    )
    if outcome is None:
        message("edit cancelled: nothing changed")
        return
    try:
        result = edit_operation(
            ctx, op.id, outcome.sets, outcome.unsets, outcome.reason, expect_version=op.version
        )
    except ConflictError:
        kept = keep_edit(outcome.path)
        raise ConflictError(
            f"operation {op.id} changed since you opened it; nothing was saved"
            f" (your edit is kept in {kept}; run 'custsync edit {op.id}' again)"
        ) from None
    except BaseException:
        outcome.path.unlink(missing_ok=True)
        raise
    outcome.path.unlink(missing_ok=True)
    print_edit(result, fmt)


def _preview(ctx: JobContext, ids: list[int], left_out: int) -> None:
    from custsync_cli.output.preview import emit, operation_sample
    from custsync_cli.store.operations import load_operations

    sample = load_operations(ctx.store.conn, ids[:SAMPLE_SIZE])
    emit(operation_sample(sample, len(ids), left_out), to_stderr=True)


def _bulk_edit(
    ctx: JobContext,
    flt: OperationFilter,
    sets: dict[str, str],
    unsets: list[str],
    reason: str | None,
    *,
    yes: bool,
    wait: float,
    dry_run: bool,
    fmt: OutputFormat,
) -> None:
    from custsync_cli.cli.confirm import confirm_or_stop
    from custsync_cli.errors import ConflictError
    from custsync_cli.output.console import message
    from custsync_cli.output.preview import edit_sample, emit
    from custsync_cli.output.render import print_json
    from custsync_cli.output.repair import print_bulk_edit
    from custsync_cli.repair import editable_matches, rehearsing
    from custsync_cli.repair.edit import (
        bulk_edit,
        check_bulk_fields,
        plan_changes,
        require_reason,
    )
    from custsync_cli.store.lock import run_lock
    from custsync_cli.store.operations import load_operations

    require_reason(reason)
    ids, left_out = editable_matches(ctx, flt)
    if not ids:
        message("no failed, blocked or pending operation matches; nothing edited")
        if fmt is OutputFormat.json:
            print_json([])
        return
    check_bulk_fields(ctx, ids, sets)
    catalogue = ctx.validator.catalogue
    sample = [
        (op, plan_changes(op, sets, unsets, catalogue))
        for op in load_operations(ctx.store.conn, ids if dry_run else ids[:SAMPLE_SIZE])
    ]
    emit(
        edit_sample(sample, [*sets, *unsets], len(ids), left_out),
        to_stderr=not dry_run or fmt is OutputFormat.json,
    )
    if dry_run:
        with rehearsing(ctx) as trial:
            results = bulk_edit(trial, ids, sets, unsets, reason)
        for result in results:
            result.dry_run = True
    else:
        confirm_or_stop(
            f"Edit these {len(ids)} operation(s)?",
            refusal=f"{len(ids)} operation(s) match; add --yes to edit them"
            " (no terminal to confirm on)",
            declined="nothing edited",
            yes=yes,
        )
        with run_lock(ctx.store.path, wait=wait, purpose="edit"):
            again, _ = editable_matches(ctx, flt)
            if again != ids:
                raise ConflictError(
                    "the matching operations changed while you confirmed; nothing was edited"
                )
            results = bulk_edit(ctx, ids, sets, unsets, reason)
    print_bulk_edit(results, fmt, dry_run=dry_run)


@with_filters
def resync_command(
    ops: OperationIds = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would happen; change nothing."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite fields that a later synced operation already changed."
        ),
    ] = False,
    yes: YesOption = False,
    wait: WaitOption = 0.0,
    output_format: FormatOption = OutputFormat.table,
    *,
    filters: FilterOptions,
) -> None:
    """Send failed operations back to pending, then sync and distribute just those now.

    Operations blocked behind them are released and synced too.
    A field that a later synced operation already changed is kept and reported as a
    conflict, unless --force. With filters, the matching failed operations (or those of
    --status) are resynced after a preview and confirmation. Takes the run lock.
    Exit codes: 0 all synced; 4 some failed or are still blocked; 75 another run is busy.

    Examples:
      custsync resync 12 13
      custsync resync --error-code invalid_email --dry-run
      custsync resync 14 --force --format json
    """
    from custsync_cli.cli.confirm import confirm_or_stop
    from custsync_cli.errors import ExitCode
    from custsync_cli.output.console import message
    from custsync_cli.output.repair import print_resync
    from custsync_cli.repair import chosen_operations
    from custsync_cli.repair.resync import resync
    from custsync_cli.store.lock import run_lock

    config = state.load()
    with state.open_store(config) as store:
        ctx = state.job_context(config, store)
        flt = filters.build(config, store.conn)
        ids, left_out = chosen_operations(ctx, ops, flt)
        if not ops:
            if not ids:
                message("no failed or pending operation matches; nothing to resync")
                if output_format is OutputFormat.json:
                    from custsync_cli.repair.resync import ResyncReport

                    print_resync(ResyncReport(dry_run=dry_run, forced=force), output_format)
                return
            if not dry_run:
                _preview(ctx, ids, left_out)
                confirm_or_stop(
                    f"Resync these {len(ids)} operation(s)?",
                    refusal=f"{len(ids)} operation(s) match; add --yes to resync them"
                    " (no terminal to confirm on)",
                    declined="nothing resynced",
                    yes=yes,
                )
        channels = list(config.channels)
        lock = run_lock(state.store_path(config), wait=wait, purpose="resync")
        with lock, ctx.stop.handling_signals():
            report = resync(ctx, ids, channels=channels, force=force, dry_run=dry_run)
    print_resync(report, output_format)
    if not report.all_synced:
        raise typer.Exit(ExitCode.SOME_FAILED)
