"""Health and history commands: ``status`` (with ``--check`` for monitoring) and ``jobs``."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.completion import complete_job
from custsync_cli.cli.formats import format_option
from custsync_cli.cli.options import NoPager
from custsync_cli.config import MAX_INTEGER
from custsync_cli.domain.runs import Job, Outcome
from custsync_cli.output.render import ROW_FORMATS, TABLE_OR_JSON, OutputFormat


def register(app: typer.Typer) -> None:
    app.command("status", rich_help_panel="Audit")(status_command)
    app.command("jobs", rich_help_panel="Jobs")(jobs_command)


def _duration(text: str | None, option: str) -> float | None:
    from custsync_cli.errors import UsageError
    from custsync_cli.timeutil import parse_duration

    if text is None:
        return None
    try:
        return parse_duration(text).total_seconds()
    except UsageError as exc:
        raise UsageError(f"{option}: {exc.message}") from None


def status_command(
    output_format: Annotated[
        OutputFormat,
        format_option(TABLE_OR_JSON, help="table (default) or json. Example: --format json"),
    ] = OutputFormat.table,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Monitoring mode: print the verdict, the reasons on stderr, exit 4 when"
            " unhealthy. Example: custsync status --check --max-run-age 30m",
        ),
    ] = False,
    max_failed: Annotated[
        int,
        typer.Option(
            "--max-failed",
            min=0,
            max=MAX_INTEGER,
            metavar="N",
            help="Unhealthy above N failed operations. Example: --max-failed 10",
        ),
    ] = 0,
    max_pending_age: Annotated[
        str | None,
        typer.Option(
            "--max-pending-age",
            metavar="DURATION",
            help="Unhealthy when an operation has been pending longer (since the channel"
            " user acted). Example: --max-pending-age 2h",
        ),
    ] = None,
    max_run_age: Annotated[
        str | None,
        typer.Option(
            "--max-run-age",
            metavar="DURATION",
            help="Unhealthy when a job's last run started longer ago, or no job ever ran."
            " Example: --max-run-age 30m",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option(
            "--top", min=1, max=MAX_INTEGER, help="How many error codes to show. Example: --top 10"
        ),
    ] = 5,
) -> None:
    """Health at a glance: counts, oldest waiting, top error codes, last job runs, a verdict.

    Operations per status and channel with totals; the age of the oldest pending, blocked and
    failed operation; the most frequent error codes with an example operation; the last run
    of each job (start, duration, counts, outcome).

    Unhealthy: a failed or crashed last run, a channel skipped by the last run, more failed
    operations than --max-failed (default 0), and the limits of --max-pending-age and
    --max-run-age. With --check the exit code says it: 0 healthy, 4 unhealthy.

    Example: custsync status --check --max-failed 20 --max-pending-age 2h --max-run-age 30m
    """
    from custsync_cli.errors import ExitCode
    from custsync_cli.output.console import message
    from custsync_cli.output.render import print_json
    from custsync_cli.output.status import render_status
    from custsync_cli.store.summary import Thresholds, status_summary

    limits = Thresholds(
        max_failed=max_failed,
        max_pending_age=_duration(max_pending_age, "--max-pending-age"),
        max_run_age=_duration(max_run_age, "--max-run-age"),
    )
    config = state.load()
    with state.open_store(config, read_only=True) as store:
        summary = status_summary(store.conn, limits, error_codes=top)
    if output_format is OutputFormat.json:
        print_json(summary.as_dict())
    elif check:
        typer.echo(f"custsync {'OK' if summary.healthy else 'UNHEALTHY'}: {summary.verdict}")
    else:
        render_status(summary)
    if check and not summary.healthy:
        for problem in summary.problems:
            message(f"unhealthy: {problem}")
        raise typer.Exit(ExitCode.SOME_FAILED)


def jobs_command(
    job: Annotated[
        list[Job] | None,
        typer.Option(
            "--job",
            help="Only runs of this job (repeatable). Example: --job sync",
            autocompletion=complete_job,
        ),
    ] = None,
    outcome: Annotated[
        list[Outcome] | None,
        typer.Option(
            "--outcome",
            help="Only runs that ended so (repeatable). Example: --outcome failed --outcome"
            " crashed",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="TIME",
            help="Runs started from this time: ISO date/time or 2h, 3d ago. Example: --since 1d",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, max=MAX_INTEGER, help="At most this many runs. Example: --limit 100"
        ),
    ] = 20,
    output_format: Annotated[
        OutputFormat,
        format_option(
            ROW_FORMATS, help="table (default), json, jsonl, csv or tsv. Example: --format csv"
        ),
    ] = OutputFormat.table,
    wide: Annotated[
        bool, typer.Option("--wide", help="Show long errors whole instead of shortened.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also runs that ended ok with nothing to do (an idle --loop adds three a round).",
        ),
    ] = False,
    no_pager: NoPager = False,
) -> None:
    """Job run history, newest first: start, end, duration, counts, outcome and error.

    Counts are recorded as batches commit, so an interrupted or crashed run shows the work it
    committed. Runs that ended ok with nothing to do are left out unless --all is given.

    Example: custsync jobs --job sync --since 1d --format json
    """
    from custsync_cli.output.console import message
    from custsync_cli.output.pager import paged
    from custsync_cli.output.status import render_runs
    from custsync_cli.store.summary import job_history
    from custsync_cli.timeutil import parse_moment

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        runs, total, hidden = job_history(
            store.conn,
            jobs=[j.value for j in job or []],
            outcomes=[o.value for o in outcome or []],
            since=parse_moment(since) if since else None,
            limit=limit,
            idle=show_all,
        )
    with paged(enabled=not no_pager):
        render_runs(runs, output_format, wide=wide)
    if not runs:
        idle = f"; {hidden} with nothing to do are left out (--all shows them)" if hidden else ""
        message(f"no job runs match{idle}")
    elif total > len(runs):
        message(f"showing the newest {len(runs)} of {total} runs; use --limit for more")
