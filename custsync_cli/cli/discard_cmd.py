"""``custsync discard``: give up on operations after a preview; it cannot be undone."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.completion import complete_failed_operation
from custsync_cli.cli.filters import FilterOptions, with_filters
from custsync_cli.cli.repair_cmds import FormatOption, YesOption
from custsync_cli.config import MAX_INTEGER
from custsync_cli.output.render import OutputFormat

if TYPE_CHECKING:
    from custsync_cli.repair.discard import DiscardResult

DISCARD_SAMPLE = 20


@with_filters
def discard_command(
    ops: Annotated[
        list[int] | None,
        typer.Argument(
            metavar="OP",
            max=MAX_INTEGER,
            help="Operation ids; or use filters.",
            show_default=False,
            autocompletion=complete_failed_operation,
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why: recorded in the audit log (required).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what would be discarded and what would fail; change nothing."
        ),
    ] = False,
    yes: YesOption = False,
    output_format: FormatOption = OutputFormat.table,
    *,
    filters: FilterOptions,
) -> None:
    """Give up on failed, blocked or pending operations, with a reason. It cannot be undone.

    Shows what will be discarded and which blocked operations behind it will fail with
    dependency_discarded (so nothing waits forever), then asks on a terminal; without a
    terminal it needs --yes. With filters instead of OP, the matching failed operations
    (or those of --status) are discarded. A synced or discarded operation is refused (exit 1).
    Exit codes: 1 refused or not confirmed; 2 no --reason, or no terminal and no --yes.

    Examples:
      custsync discard 12 --reason "test customer created by mistake" --dry-run
      custsync discard 12 --reason "test customer created by mistake"
      custsync discard --error-code unknown_customer --channel web-se --reason "lost creates" --yes
    """
    from custsync_cli.errors import ExitCode, UsageError
    from custsync_cli.output.console import message
    from custsync_cli.output.preview import discard_plan, emit
    from custsync_cli.output.render import print_json
    from custsync_cli.repair import chosen_operations
    from custsync_cli.repair.discard import discard, preview_discard, require_discard_reason

    require_discard_reason(reason)
    config = state.load()
    with state.open_store(config) as store:
        ctx = state.job_context(config, store)
        ids, _ = chosen_operations(ctx, ops, filters.build(config, store.conn))
        if not ids:
            message("no failed, blocked or pending operation matches; nothing discarded")
            if output_format is OutputFormat.json:
                print_json([])
            return
        planned = preview_discard(ctx, ids)
        if dry_run:
            if output_format is OutputFormat.json:
                print_json([r.as_dict() for r in planned])
            else:
                emit(discard_plan(planned), to_stderr=False)
            message("dry run: nothing was discarded")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"{len(planned)} operation(s) would be discarded; add --yes to discard"
                    " them without a terminal to confirm on (--dry-run lists them)"
                )
            emit(discard_plan(planned, limit=DISCARD_SAMPLE), to_stderr=True)
            if not typer.confirm(
                f"Discard these {len(planned)} operation(s)? This cannot be undone",
                default=False,
                err=True,
            ):
                message("nothing discarded")
                raise typer.Exit(ExitCode.ERROR)
        results = discard(ctx, ids, reason, previewed=planned)
    _print_discard(results, output_format)


def _print_discard(results: list[DiscardResult], fmt: OutputFormat) -> None:
    from custsync_cli.output.console import line
    from custsync_cli.output.render import print_json

    if fmt is OutputFormat.json:
        print_json([r.as_dict() for r in results])
        return
    for result in results:
        line(f"discarded operation {result.id} ({result.operation}, was {result.previous_status})")
        for dependant in result.failed_dependants:
            line(
                f"  operation {dependant} failed: it waited for {result.id} (dependency_discarded)"
            )
