"""Previews of repairs before they happen: aligned columns, to stdout or stderr."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from custsync_cli.output.visible import visible

if TYPE_CHECKING:
    from custsync_cli.domain.models import Operation
    from custsync_cli.repair.discard import DiscardResult
    from custsync_cli.repair.edit import FieldChange

ERROR_WIDTH = 70


def aligned(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows of cells as lines whose columns line up; control characters are written out."""
    cells = [[visible(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(cells[0]))]
    return [
        indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]


def emit(lines: Sequence[str], *, to_stderr: bool) -> None:
    """Print preview lines: stderr when a question follows, stdout when they are the output."""
    import sys

    stream = sys.stderr if to_stderr else sys.stdout
    for text in lines:
        stream.write(visible(text) + "\n")
    stream.flush()


def _error(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= ERROR_WIDTH else text[: ERROR_WIDTH - 1] + "…"


def operation_sample(operations: Sequence[Operation], total: int, left_out: int) -> list[str]:
    """The first matched operations of a bulk resync, one aligned line each."""
    extra = f" ({left_out} synced or discarded left out)" if left_out else ""
    lines = [f"{total} operation(s) match{extra}; the first ones:"]
    lines += aligned(
        [
            [str(op.id), op.channel, op.operation, op.status, _error(op.last_error)]
            for op in operations
        ]
    )
    if total > len(operations):
        lines.append(f"  ... and {total - len(operations)} more")
    return lines


def quoted(value: str | None) -> str:
    """A field value as the repair reports show it: quoted, or ``(none)``."""
    return "(none)" if value is None else repr(value)


def edit_sample(
    planned: Sequence[tuple[Operation, Sequence[FieldChange]]],
    names: Sequence[str],
    total: int,
    left_out: int,
) -> list[str]:
    """A bulk edit's matched operations with each edited field's current and new value."""
    extra = f" ({left_out} synced or discarded left out)" if left_out else ""
    which = "" if len(planned) == total else "; the first ones"
    lines = [f"{total} operation(s) match{extra}{which}:"]
    header = ["id", "channel", "operation", "status"]
    for name in names:
        header += [f"{name} now", f"{name} new"]
    rows = [header]
    for op, changes in planned:
        by_field = {change.field: change for change in changes}
        row = [str(op.id), op.channel, op.operation, op.status]
        for name in names:
            change = by_field.get(name)
            row.append(quoted(op.values.get(name)))
            if change is None:
                row.append("(no change)")
            else:
                row.append("(unset)" if change.unset else quoted(change.new))
        rows.append(row)
    lines += aligned(rows)
    if total > len(planned):
        lines.append(f"  ... and {total - len(planned)} more (--dry-run lists them all)")
    return lines


def discard_plan(results: Sequence[DiscardResult], *, limit: int | None = None) -> list[str]:
    """What a discard does: each operation, then the blocked ones that fail because of it."""
    shown = list(results if limit is None else results[:limit])
    lines = [f"{len(results)} operation(s) to discard:"]
    header = ["id", "operation", "status", "channel", "last error"]
    lines += aligned(
        [header]
        + [
            [str(r.id), r.operation, r.previous_status, r.channel, _error(r.last_error)]
            for r in shown
        ]
    )
    if len(results) > len(shown):
        lines.append(f"  ... and {len(results) - len(shown)} more (--dry-run lists them all)")
    dependants = [(dep, r.id) for r in results for dep in r.failed_dependants]
    if dependants:
        lines.append(
            f"{len(dependants)} blocked operation(s) behind them will fail with"
            " dependency_discarded:"
        )
        lines += aligned([[str(dep), f"waits for {waited}"] for dep, waited in sorted(dependants)])
    return lines


def resync_hint(ids: Sequence[int], *, force: bool = False) -> str:
    """The exact command that resyncs ``ids`` (resync takes ids, not ranges)."""
    return (
        "custsync resync " + " ".join(str(op_id) for op_id in ids) + (" --force" if force else "")
    )
