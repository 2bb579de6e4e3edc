"""The lines that tell an operator what an archive run did or would do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custsync_cli.jobs.archive import ArchiveReport


def archive_lines(report: ArchiveReport) -> list[str]:
    """What ``archive`` (and a run-jobs that applied retention) says about an archive run."""
    held = (
        f"operation {report.held_by} keeps the history from it on in the store until it (and"
        f" any operation waiting on it) is finished: custsync show {report.held_by}"
    )
    if report.file is None:
        lines = [f"nothing to archive before {report.cutoff}"]
        return [*lines, held] if report.held_by is not None else lines
    verb = "would archive" if report.dry_run else "archived"
    lines = [
        f"{verb} {report.operations} operations and {report.events} audit events"
        f" ({report.from_time} to {report.to_time}) to {report.file}"
    ]
    if report.held_by is not None:
        lines.append(held)
    if report.vacuum_advised:
        lines.append(
            f"{report.free_bytes // 1024} KiB of the store are free and will be reused;"
            " 'custsync archive --before ... --vacuum' gives them back to the file system"
        )
    return lines
