"""``custsync discard``: give up on operations after a preview; it cannot be undone."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.filters import FilterOptions, with_filters
from custsync_cli.cli.options import FormatOption, OperationIds, ReasonOption, YesOption
from custsync_cli.output.render import OutputFormat

DISCARD_SAMPLE = 20


@with_filters
def discard_command(
    ops: OperationIds = None,
    reason: ReasonOption = None,
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
    from custsync_cli.cli.confirm import confirm_or_stop
    from custsync_cli.output.console import message
    from custsync_cli.output.preview import discard_plan, emit
    from custsync_cli.output.render import print_json
    from custsync_cli.output.repair import print_discard
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
        confirm_or_stop(
            f"Discard these {len(planned)} operation(s)? This cannot be undone",
            refusal=f"{len(planned)} operation(s) would be discarded; add --yes to discard"
            " them without a terminal to confirm on (--dry-run lists them)",
            declined="nothing discarded",
            yes=yes,
            before=lambda: emit(discard_plan(planned, limit=DISCARD_SAMPLE), to_stderr=True),
        )
        results = discard(ctx, ids, reason, previewed=planned)
    print_discard(results, output_format)
