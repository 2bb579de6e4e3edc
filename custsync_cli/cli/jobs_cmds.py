"""The ``run-jobs`` command: pull, sync and distribute once or on a loop, for cron and humans."""

from __future__ import annotations

import math
import signal
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.formats import format_option
from custsync_cli.config import MAX_INTEGER, MAX_INTERVAL
from custsync_cli.domain.runs import JOB_ORDER, Job
from custsync_cli.output.render import TEXT_OR_JSON, OutputFormat

PANEL = "Jobs"


ALL_JOBS = "all"
if TYPE_CHECKING:
    JobName = Job  # and "all", which the type checker cannot see in a derived enum
else:
    JobName = StrEnum("JobName", [*(job.value for job in Job), ALL_JOBS])


def register(app: typer.Typer) -> None:
    app.command("run-jobs", rich_help_panel=PANEL)(run_jobs_command)


def run_jobs_command(
    job: Annotated[JobName, typer.Option("--job", help="Which job to run.")] = JobName(ALL_JOBS),
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", metavar="NAME", help="Only this channel (repeatable)."),
    ] = None,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep running until SIGINT/SIGTERM.")
    ] = False,
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            min=1,
            max=MAX_INTERVAL,
            help="Seconds between runs with --loop (config: jobs.interval).",
        ),
    ] = None,
    max_runs: Annotated[
        int | None,
        typer.Option("--max-runs", min=1, max=MAX_INTEGER, help="Stop after this many runs."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for another run's lock before exit 75 (--loop always waits).",
        ),
    ] = 0.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when a channel was skipped (partial run), else 4 when any operation"
            " failed in the run.",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat,
        format_option(
            TEXT_OR_JSON,
            help="text: one summary line per run on stderr; json: each run's report as one"
            " JSON object on stdout.",
        ),
    ] = OutputFormat.text,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Print nothing for a run that went fully well."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Add per-channel detail.")
    ] = False,
) -> None:
    """Run the batch jobs (pull -> sync -> distribute) once, or on a loop.

    A run that skipped a channel (missing, corrupt, no outbox) is partial: it prints its
    summary line even with -q, and exits 1 with --strict. SIGTERM ends a --loop after the
    batch in hand, saying "stopped" (exit 0); it interrupts a single run (exit 143).

    Example (crontab): */5 * * * * custsync --config /srv/custsync/custsync.yaml run-jobs
    """
    from custsync_cli.errors import ExitCode, Interrupted
    from custsync_cli.jobs.archive import apply_retention
    from custsync_cli.jobs.runner import run_jobs, sleep_interruptibly
    from custsync_cli.output.archive import archive_lines
    from custsync_cli.output.console import error, message, stderr_console
    from custsync_cli.output.progress import JobTally, LiveProgress
    from custsync_cli.output.render import dumps
    from custsync_cli.store.lock import run_lock

    config = state.load()
    channels = [config.channel(name) for name in channel] if channel else list(config.channels)
    jobs = list(JOB_ORDER) if job == ALL_JOBS else [job.value]
    pause = interval or config.jobs.interval
    runs = 0
    any_failed = any_partial = False
    halted: set[str] = set()
    live = sys.stderr.isatty() and not quiet and output_format is OutputFormat.text
    store_path = state.store_path(config)

    def waiting(holder: str) -> None:
        if not quiet:
            from rich.markup import escape

            line = f"waiting for the lock on {store_path} ({holder})"
            stderr_console().print(escape(line), soft_wrap=True)

    try:
        with state.open_store(config, create=True) as store:
            ctx = state.job_context(config, store)
            with ctx.stop.handling_signals():
                while True:
                    names = [c.name for c in channels]
                    tally = (
                        LiveProgress(jobs, channels=names, verbose=verbose) if live else JobTally()
                    )
                    ctx.progress = tally
                    # A service must outlive an operator's resync or edit: a loop waits.
                    with run_lock(
                        store_path,
                        wait=math.inf if loop else wait,
                        check_stop=ctx.stop.check,
                        on_wait=waiting if loop else None,
                    ):
                        if isinstance(tally, LiveProgress):
                            with tally:
                                report = run_jobs(ctx, jobs, channels)
                        else:
                            report = run_jobs(ctx, jobs, channels)
                        retained = apply_retention(store, config.retention)
                    runs += 1
                    any_failed = any_failed or report.failed > 0
                    any_partial = any_partial or report.outcome == "partial"
                    halted.update(report.halted_channels)
                    if output_format is OutputFormat.json:
                        data = report.as_dict()
                        data["archive"] = retained.as_dict() if retained else None
                        typer.echo(dumps(data, indent=None))
                    elif not quiet or report.outcome != "ok":
                        # cron mails any output: -q stays silent only when all went well.
                        message(report.summary_line())
                    if output_format is OutputFormat.text and not quiet:
                        if verbose and not live:
                            for line in tally.detail_lines():
                                message(line)
                        for name, reason in sorted(report.skipped_channels.items()):
                            message(f"  skipped {name}: {reason}")
                        for problem in sorted(report.unreadable_rows.values()):
                            message(f"  {problem}")
                        if retained is not None:
                            for line in archive_lines(retained):
                                message(f"  retention: {line}")
                    if not loop or (max_runs is not None and runs >= max_runs):
                        break
                    sleep_interruptibly(ctx, pause)
    except Interrupted as exc:
        # SIGTERM is how a service manager stops a loop: the loop ends as --max-runs ends it.
        if not (loop and exc.signal_number == signal.SIGTERM):
            raise
        message("stopped")
    if halted:
        first, *others = sorted(halted)
        more = f" (also: {', '.join(others)})" if others else ""
        error(report.skipped_channels.get(first, f"channel {first}: counters went back") + more)
        raise typer.Exit(ExitCode.ERROR)
    # A skipped channel is the graver news, so it wins over failed operations.
    if strict and any_partial:
        raise typer.Exit(ExitCode.ERROR)
    if strict and any_failed:
        raise typer.Exit(ExitCode.SOME_FAILED)
