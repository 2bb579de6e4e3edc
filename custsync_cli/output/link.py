"""The human form of ``custsync link``: what was linked, released and applied."""

from __future__ import annotations

from custsync_cli.output.console import line, message
from custsync_cli.output.render import print_table
from custsync_cli.repair.link import LinkResult


def print_link(result: LinkResult) -> None:
    """What was (or would be) linked, the differing values and what became of them."""
    did = "would link" if result.dry_run else "linked"
    line(
        f"{did} operation {result.operation_id} (create_customer, {result.channel}) to existing"
        f" customer {result.customer_account}"
    )
    if result.released:
        ids = ", ".join(str(op_id) for op_id in result.released)
        released = "would release" if result.dry_run else "released"
        when = "" if result.resync else "; they sync on the next run (or now with --resync)"
        line(f"{released} {len(result.released)} blocked operation(s): {ids}{when}")
    if result.differences:
        rows = [
            {
                "field": d.field,
                "hq": _shown(d.hq),
                "operation": _shown(d.operation),
                "outcome": _outcome(result, d.applied, d.kept_from_operation),
            }
            for d in result.differences
        ]
        columns = [
            ("field", "field"),
            ("hq", "HQ value"),
            ("operation", "operation's value"),
            ("outcome", ""),
        ]
        print_table(rows, columns, wide=True)
        if not result.apply_fields:
            message(
                "the operation's differing values are not applied; HQ keeps its own"
                + (" (add --apply-fields to apply them)" if result.dry_run else "")
            )
    if result.distributed:
        line(f"distributed {result.customer_account} to {result.channel}")
    if result.dry_run and result.resync is None:
        message("dry run: nothing was changed")


def _outcome(result: LinkResult, applied: bool, kept_from: int | None) -> str:
    if kept_from is not None:
        return f"kept: newer HQ value from operation {kept_from}"
    if applied:
        return "would apply" if result.dry_run else "applied"
    return "not applied"


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)
