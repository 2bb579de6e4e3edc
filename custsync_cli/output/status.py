"""The ``status`` report, the job run tables and the demo's summary, from store.summary's model."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custsync_cli.domain.runs import UNHEALTHY_OUTCOMES
from custsync_cli.output.console import line, message, stdout_is_terminal
from custsync_cli.output.render import OutputFormat, render_rows, table_time

if TYPE_CHECKING:
    from custsync_cli.store.summary import StatusSummary

JOB_COLUMNS = (
    ("id", "run"),
    ("job", "job"),
    ("started_at", "started (UTC)"),
    ("finished_at", "finished"),
    ("seconds", "duration"),
    ("counts", "counts"),
    ("outcome", "outcome"),
    ("error", "error"),
)
# On a narrow terminal these columns give way first, so that the error stays readable.
JOB_DROP_ORDER = ("finished_at", "counts", "started_at")
JOB_KEYS = (
    "id",
    "job",
    "channel",
    "started_at",
    "finished_at",
    "seconds",
    "pulled",
    "synced",
    "failed",
    "blocked",
    "distributed",
    "outcome",
    "error",
    "skipped_channels",
    "pid",
    "actor",
)
LAST_RUN_COLUMNS = (
    ("job", "job"),
    ("started_at", "started (UTC)"),
    ("seconds", "duration"),
    ("counts", "counts"),
    ("outcome", "outcome"),
    ("error", "error"),
)
OLDEST_COLUMNS = (
    ("status", "oldest"),
    ("age", "age"),
    ("id", "operation"),
    ("channel", "channel"),
    ("timestamp", "timestamp (UTC)"),
)
ERROR_CODE_COLUMNS = (
    ("code", "error code"),
    ("count", "failed ops"),
    ("example_operation_id", "e.g."),
)
# The demo's hints edit and resync an operation that fails on this code, with this value.
DEMO_ERROR_CODE = "invalid_email"
DEMO_EDIT = 'email=anna@example.se --reason "typo at the till"'


def render_counts(summary: StatusSummary, *, total_column: bool = True) -> None:
    """The table of operations per channel and status, with a total row."""
    from custsync_cli.store.summary import STATUS_ORDER

    keys = (*STATUS_ORDER, "total") if total_column else STATUS_ORDER
    rows: list[dict[str, Any]] = [
        {"channel": channel, **per} for channel, per in summary.counts.items()
    ]
    rows.append({"channel": "total", **summary.totals})
    columns = [("channel", "channel"), *((key, key) for key in keys)]
    render_rows(rows, columns, OutputFormat.table, title="Operations per status and channel")


def render_status(summary: StatusSummary) -> None:
    """``custsync status`` as a table report, ending with the verdict."""
    from custsync_cli.timeutil import format_age

    render_counts(summary)
    terminal = stdout_is_terminal()

    def gap() -> None:
        if not terminal:  # Rich pads tables with blank lines on a terminal, not when piped
            line("")

    waiting = [
        {
            "status": status,
            "age": format_age(oldest["age_seconds"]),
            "id": oldest["id"],
            "channel": oldest["channel"],
            "timestamp": table_time(oldest["timestamp"]),
        }
        for status, oldest in summary.oldest.items()
        if oldest is not None
    ]
    if waiting:
        gap()
        render_rows(waiting, OLDEST_COLUMNS, OutputFormat.table, title="Oldest waiting operations")
    if summary.error_codes:
        gap()
        render_rows(
            summary.error_codes, ERROR_CODE_COLUMNS, OutputFormat.table, title="Top error codes"
        )
    gap()
    if summary.last_runs:
        render_rows(
            [run_for_table(run) for run in summary.last_runs],
            LAST_RUN_COLUMNS,
            OutputFormat.table,
            title="Last run of each job",
            wide=True,  # three rows: show the counts and errors whole rather than cut them
        )
    else:
        line("No job has run yet (custsync run-jobs).")
    gap()
    line(f"HQ customers: {summary.customers}")
    if terminal:
        from rich.text import Text

        from custsync_cli.output.console import stdout_console

        style = "bold green" if summary.healthy else "bold red"
        stdout_console().print(Text(summary.verdict, style=style))
        hints = next_steps(summary)
        if hints:
            message("next: " + "; ".join(hints))
    else:
        line(summary.verdict)


def next_steps(summary: StatusSummary) -> list[str]:
    """What an operator would run next to act on the problems shown."""
    hints = []
    if summary.totals["failed"]:
        hints.append("custsync list --status failed")
    if summary.error_codes:
        hints.append(f"custsync show {summary.error_codes[0]['example_operation_id']}")
    if any(run["outcome"] in UNHEALTHY_OUTCOMES for run in summary.last_runs):
        hints.append("custsync jobs --limit 10")
    return hints


def demo_steps(summary: StatusSummary, config: Path) -> list[str]:
    """The demo's "Try next" commands, naming operations of its data so each runs as shown."""
    steps = [f"export CUSTSYNC_CONFIG={shlex.quote(str(config))}"]
    if summary.totals["failed"]:
        steps.append("custsync list --status failed")
    examples = {code["code"]: code["example_operation_id"] for code in summary.error_codes}
    if DEMO_ERROR_CODE in examples:
        op = examples[DEMO_ERROR_CODE]
        steps += [f"custsync show {op}", f"custsync edit {op} --set {DEMO_EDIT}"]
        steps.append(f"custsync resync {op}")
    elif summary.error_codes:
        steps.append(f"custsync show {summary.error_codes[0]['example_operation_id']}")
    steps.append("custsync status")
    return steps


def render_demo_summary(summary: StatusSummary, config: Path) -> None:
    """What the demo built: the counts, the HQ customers and commands to try next."""
    render_counts(summary, total_column=False)
    line(f"HQ customers created: {summary.customers}")
    line("")
    line("Try next:")
    for step in demo_steps(summary, config):
        line(f"  {step}")


def _finish_time(started: str, finished: str | None) -> str:
    """The finish time, without the date when the run ended on the day it started."""
    if finished is None:
        return ""
    return finished[11:19] if finished[:10] == started[:10] else table_time(finished)


def run_for_table(run: dict[str, Any]) -> dict[str, Any]:
    """One job run as a table row: times shortened, counts and skipped channels in words."""
    from custsync_cli.store.summary import RUN_COUNTS

    seconds = run["seconds"]
    error = run["error"]
    if run["skipped_channels"]:
        skipped = "skipped " + ", ".join(sorted(run["skipped_channels"]))
        error = f"{error}; {skipped}" if error else skipped
    counts = ", ".join(f"{key} {run[key]}" for key in RUN_COUNTS if run[key])
    return {
        **run,
        "counts": counts or "nothing to do",
        "started_at": table_time(run["started_at"]),
        "finished_at": _finish_time(run["started_at"], run["finished_at"]),
        "seconds": "" if seconds is None else f"{seconds:.1f} s",
        "error": error,
    }


def render_runs(runs: Sequence[dict[str, Any]], fmt: OutputFormat, *, wide: bool) -> None:
    """``custsync jobs``: a table for people, every recorded key for scripts."""
    if fmt is OutputFormat.table:
        rows = [run_for_table(run) for run in runs]
        render_rows(rows, JOB_COLUMNS, fmt, wide=wide, drop_order=JOB_DROP_ORDER)
    else:
        render_rows(runs, [(key, key) for key in JOB_KEYS], fmt)
