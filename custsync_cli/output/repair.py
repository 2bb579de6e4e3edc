"""The reports of ``edit``, ``resync`` and ``discard``: what changed, the verdict, what next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from custsync_cli.output.console import line, message
from custsync_cli.output.preview import quoted, resync_hint
from custsync_cli.output.render import OutputFormat, print_json

if TYPE_CHECKING:
    from custsync_cli.repair.discard import DiscardResult
    from custsync_cli.repair.edit import EditResult
    from custsync_cli.repair.resync import ResyncReport

RESYNC_COLUMNS = (
    ("id", "id"),
    ("operation", "operation"),
    ("status", "status"),
    ("customer_account", "customer account"),
    ("details", "details"),
)


def print_edit(result: EditResult, fmt: OutputFormat) -> None:
    """One edit: each changed field, the verdict and the command that comes next."""
    if fmt is OutputFormat.json:
        print_json(result.as_dict())
        return
    if not result.changes:
        message(f"nothing changed: operation {result.operation_id} already has those values")
    else:
        did = "would edit" if result.dry_run else "edited"
        line(
            f"{did} operation {result.operation_id} ({result.operation}, {result.status}),"
            f" {'to' if result.dry_run else 'now'} version {result.version}:"
        )
        for change in result.changes:
            after = "unset" if change.unset else quoted(change.new)
            line(f"  {change.field}: {quoted(change.old)} -> {after}")
    line(f"operation {result.operation_id} {result.verdict.sentence()}")
    for warning in result.verdict.warnings:
        line(f"  warning: {warning.message}")
    waits_for = result.verdict.waits_for
    if result.dry_run:
        message("dry run: nothing was saved")
    elif result.verdict.passes and result.status == "failed":
        line(f"next: {resync_hint([result.operation_id])}")
    elif result.verdict.passes and result.status == "blocked" and waits_for:
        line(f"next: it syncs once operation {waits_for} has; see custsync show {waits_for}")


def print_bulk_edit(results: Sequence[EditResult], fmt: OutputFormat, *, dry_run: bool) -> None:
    """A bulk edit: how many would pass, the ones that would not, and the resync to run."""
    if fmt is OutputFormat.json:
        print_json([r.as_dict() for r in results])
    else:
        changed = [r for r in results if r.changes]
        passing = sum(1 for r in changed if r.verdict.passes)
        line(
            f"{'would edit' if dry_run else 'edited'} {len(changed)} of {len(results)}"
            f" operation(s): {passing} would now pass, {len(changed) - passing} would still fail"
        )
        for result in changed:
            if not result.verdict.passes:
                line(f"  operation {result.operation_id} {result.verdict.sentence()}")
        ready = [r.operation_id for r in changed if r.verdict.passes and r.status == "failed"]
        if ready and not dry_run:
            line(f"next: {resync_hint(ready)}")
    if dry_run:
        message("dry run: nothing was saved")


def print_resync(report: ResyncReport, fmt: OutputFormat) -> None:
    """Where each operation ended, the counts, conflicts kept and channels not written to."""
    from rich.markup import escape

    from custsync_cli.output.render import print_table

    if fmt is OutputFormat.json:
        print_json(report.as_dict())
        return
    rows = []
    for outcome in report.operations:
        details: list[str] = []
        if outcome.errors:
            details.append("; ".join(e["message"] for e in outcome.errors))
        if outcome.status == "blocked" and outcome.waits_for:
            details.append(f"waits for operation {outcome.waits_for}")
        for conflict in outcome.conflicts:
            details.append(
                f"conflict: {conflict.field} kept {quoted(conflict.kept)} from newer operation"
                f" {conflict.kept_from_operation}, not {quoted(conflict.wanted)}"
            )
        if outcome.released_by:
            details.append(f"released by {outcome.released_by}")
        if outcome.distributed:
            details.append(f"distributed to {outcome.channel}")
        rows.append(
            {
                "id": outcome.id,
                "operation": outcome.operation,
                "status": outcome.status if not report.dry_run else f"would be {outcome.status}",
                "customer_account": outcome.customer_account,
                "details": "; ".join(details),
            }
        )
    print_table(rows, RESYNC_COLUMNS, wide=True)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
    if report.dry_run:
        message(f"dry run: {counts}; nothing was changed")
    else:
        message(f"resync: {counts}")
    conflicting = [o.id for o in report.operations if o.conflicts]
    chosen = [o.id for o in report.operations if o.released_by is None]
    # --force reaches only the operations named on the command line, not released ones.
    if report.dry_run and set(conflicting) & set(chosen):
        message(
            "conflicting fields would keep their newer values; to overwrite them:"
            f" {resync_hint(chosen, force=True)}"
        )
    elif conflicting:
        kept = "would keep" if report.dry_run else "kept"
        message(f"conflicting fields {kept} their newer values; see custsync show {conflicting[0]}")
    for name, why in sorted(report.skipped_channels.items()):
        message(f"not distributed to {name}: {escape(why)}")


def print_discard(results: Sequence[DiscardResult], fmt: OutputFormat) -> None:
    """Each discarded operation and the blocked ones that failed because of it."""
    if fmt is OutputFormat.json:
        print_json([r.as_dict() for r in results])
        return
    for result in results:
        line(f"discarded operation {result.id} ({result.operation}, was {result.previous_status})")
        for dependant in result.failed_dependants:
            line(
                f"  operation {dependant} failed: it waited for {result.id} (dependency_discarded)"
            )
