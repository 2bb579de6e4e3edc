"""Run the jobs in order (pull, sync, distribute), record each run, and loop for cron-less use."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from custsync_cli import faults
from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.domain.runs import JOB_ORDER
from custsync_cli.errors import CustsyncError, Interrupted
from custsync_cli.store.job_runs import add_counts, close_stale_runs, finish_run, start_run
from custsync_cli.timeutil import utc_now


@dataclass
class RunReport:
    """What one run of the jobs did, for the summary line and ``--format json``."""

    started_at: str
    finished_at: str | None = None
    seconds: float = 0.0
    jobs: list[str] = field(default_factory=list)
    pulled: int = 0
    malformed: int = 0  # of ``failed``, those the pull job failed
    synced: int = 0
    failed: int = 0  # every operation that failed in the run, at pull or at sync
    blocked: int = 0
    released: int = 0
    distributed: int = 0
    skipped_channels: dict[str, str] = field(default_factory=dict)
    halted_channels: list[str] = field(default_factory=list)
    unreadable_rows: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary_line(self) -> str:
        parts = [
            f"pulled {self.pulled}",
            f"synced {self.synced}",
            f"failed {self.failed}",
            f"blocked {self.blocked}",
            f"distributed {self.distributed}",
        ]
        line = f"run-jobs {self.outcome}: {', '.join(parts)} in {self.seconds:.1f} s"
        if self.skipped_channels:
            line += f"; skipped channel(s): {', '.join(sorted(self.skipped_channels))}"
        if self.unreadable_rows:
            line += f"; unreadable rows in: {', '.join(sorted(self.unreadable_rows))}"
        return line


# Container allocations between two collections of the youngest generation (Python's default
# is 700). The jobs' objects die by reference counting, not in cycles; at the default, the
# collector's walks cost ~6 % of a run's CPU and find next to nothing.
COLLECT_EVERY = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Freeze what start-up built (modules, config, the command line), which lives as long as
    the process, so no collection walks it again, and collect the young generation less often.
    The collector is as it was afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(COLLECT_EVERY, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_jobs(ctx: JobContext, jobs: list[str], channels: list[ChannelConfig]) -> RunReport:
    """Run ``jobs`` once, in the canonical order, recording each as a job run."""
    with fewer_collections():
        return _run_jobs(ctx, jobs, channels)


def _run_jobs(ctx: JobContext, jobs: list[str], channels: list[ChannelConfig]) -> RunReport:
    report = RunReport(started_at=utc_now())
    started = time.monotonic()
    close_stale_runs(ctx.store)
    channel_name = channels[0].name if len(channels) == 1 else None
    for job in (j for j in JOB_ORDER if j in jobs):
        report.jobs.append(job)
        run_id = start_run(ctx.store, job, channel_name, ctx.actor)
        faults.point("runner.after_start")
        previous, ctx.record_batch = ctx.record_batch, partial(_record, ctx, run_id)
        try:
            skipped, unreadable = _run_job(ctx, job, channels, report)
        except Interrupted as exc:
            finish_run(ctx.store, run_id, "interrupted", error=exc.message)
            report.outcome = "interrupted"
            raise
        except CustsyncError as exc:
            finish_run(ctx.store, run_id, "failed", error=exc.message)
            raise
        except BaseException as exc:
            finish_run(ctx.store, run_id, "failed", error=type(exc).__name__)
            raise
        finally:
            ctx.record_batch = previous
        outcome = "partial" if skipped or unreadable else "ok"
        faults.point("runner.before_finish")
        finish_run(ctx.store, run_id, outcome, skipped=skipped, unreadable=unreadable)
    # A loop keeps its connection open, so without this every commit would stay in the WAL
    # and the store file alone (a plain copy of it) would miss them.
    ctx.store.checkpoint()
    report.finished_at = utc_now()
    report.seconds = time.monotonic() - started
    if report.skipped_channels or report.unreadable_rows:
        report.outcome = "partial"
    return report


def _record(ctx: JobContext, run_id: int, counts: Mapping[str, int]) -> None:
    add_counts(ctx.store.conn, run_id, counts)


def _run_job(
    ctx: JobContext, job: str, channels: list[ChannelConfig], report: RunReport
) -> tuple[dict[str, str], dict[str, str]]:
    """Run one job, add its results to ``report``; the channels it skipped and unreadable rows."""
    from custsync_cli.jobs.distribute import distribute
    from custsync_cli.jobs.pull import pull
    from custsync_cli.jobs.sync import sync

    if job == "pull":
        pulled = pull(ctx, channels)
        report.pulled += pulled.pulled
        report.malformed += pulled.malformed
        report.failed += pulled.malformed
        report.skipped_channels.update(pulled.skipped_channels)
        report.halted_channels += pulled.halted_channels
        report.unreadable_rows.update(pulled.unreadable_rows)
        return pulled.skipped_channels, pulled.unreadable_rows
    if job == "sync":
        synced = sync(ctx)
        report.synced += synced.synced
        report.failed += synced.failed
        report.blocked += synced.blocked
        report.released += synced.released
        return {}, {}
    distributed = distribute(ctx, channels)
    report.distributed += distributed.distributed
    report.skipped_channels.update(distributed.skipped_channels)
    return distributed.skipped_channels, {}


def sleep_interruptibly(ctx: JobContext, seconds: float) -> None:
    """Sleep between loop runs, waking at once when a signal sets the stop flag."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ctx.stop.check()
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))
    ctx.stop.check()
