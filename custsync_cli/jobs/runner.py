"""Run the jobs in order (pull, sync, distribute), record each run, and loop for cron-less use."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from custsync_cli import faults
from custsync_cli.config import ChannelConfig
from custsync_cli.errors import CustsyncError, Interrupted
from custsync_cli.jobs.context import JobContext
from custsync_cli.store.audit import chain_head
from custsync_cli.timeutil import utc_now

JOB_ORDER = ("pull", "sync", "distribute")


@dataclass
class RunReport:
    """What one run of the jobs did, for the summary line and ``--format json``."""

    started_at: str
    finished_at: str | None = None
    seconds: float = 0.0
    jobs: list[str] = field(default_factory=list)
    pulled: int = 0
    malformed: int = 0
    synced: int = 0
    failed: int = 0
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


def close_stale_runs(ctx: JobContext) -> None:
    """Runs left 'running' by a killed process: the caller holds the lock, so none is alive."""
    with ctx.store.transaction() as conn:
        conn.execute(
            "UPDATE job_runs SET outcome = 'crashed', finished_at = coalesce(finished_at, ?)"
            " WHERE outcome = 'running'",
            (utc_now(),),
        )


def run_jobs(ctx: JobContext, jobs: list[str], channels: list[ChannelConfig]) -> RunReport:
    """Run ``jobs`` once, in the canonical order, recording each as a job run."""
    from custsync_cli.jobs.distribute import distribute
    from custsync_cli.jobs.pull import pull
    from custsync_cli.jobs.sync import sync

    report = RunReport(started_at=utc_now())
    started = time.monotonic()
    close_stale_runs(ctx)
    channel_name = channels[0].name if len(channels) == 1 else None
    for job in (j for j in JOB_ORDER if j in jobs):
        report.jobs.append(job)
        run_id = _start_run(ctx, job, channel_name)
        faults.point("runner.after_start")
        counts: dict[str, Any] = {}
        try:
            if job == "pull":
                pulled = pull(ctx, channels)
                report.pulled += pulled.pulled
                report.malformed += pulled.malformed
                report.skipped_channels.update(pulled.skipped_channels)
                report.halted_channels += pulled.halted_channels
                report.unreadable_rows.update(pulled.unreadable_rows)
                counts = {"pulled": pulled.pulled, "failed": pulled.malformed}
                counts["skipped_channels"] = pulled.skipped_channels
                counts["unreadable_rows"] = pulled.unreadable_rows
            elif job == "sync":
                synced = sync(ctx)
                report.synced += synced.synced
                report.failed += synced.failed
                report.blocked += synced.blocked
                report.released += synced.released
                counts = {"synced": synced.synced, "failed": synced.failed}
                counts["blocked"] = synced.blocked
            else:
                distributed = distribute(ctx, channels)
                report.distributed += distributed.distributed
                report.skipped_channels.update(distributed.skipped_channels)
                counts = {"distributed": distributed.distributed}
                counts["skipped_channels"] = distributed.skipped_channels
        except Interrupted as exc:
            _finish_run(ctx, run_id, "interrupted", counts, exc.message)
            report.outcome = "interrupted"
            raise
        except CustsyncError as exc:
            _finish_run(ctx, run_id, "failed", counts, exc.message)
            raise
        except BaseException as exc:
            _finish_run(ctx, run_id, "failed", counts, type(exc).__name__)
            raise
        partial = counts.get("skipped_channels") or counts.get("unreadable_rows")
        outcome = "partial" if partial else "ok"
        faults.point("runner.before_finish")
        _finish_run(ctx, run_id, outcome, counts, None)
    # A loop keeps its connection open, so without this every commit would stay in the WAL
    # and the store file alone (a plain copy of it) would miss them.
    ctx.store.checkpoint()
    report.finished_at = utc_now()
    report.seconds = time.monotonic() - started
    if report.skipped_channels or report.unreadable_rows:
        report.outcome = "partial"
    return report


def _start_run(ctx: JobContext, job: str, channel: str | None) -> int:
    with ctx.store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO job_runs (job, channel, started_at, pid, actor) VALUES (?, ?, ?, ?, ?)",
            (job, channel, utc_now(), os.getpid(), ctx.actor),
        )
        return int(cursor.lastrowid or 0)


def _finish_run(
    ctx: JobContext, run_id: int, outcome: str, counts: dict[str, Any], error: str | None
) -> None:
    import json

    skipped = counts.get("skipped_channels") or None
    unreadable = counts.get("unreadable_rows") or None
    with ctx.store.transaction() as conn:
        head_id, head_hash = chain_head(conn)
        conn.execute(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, pulled = ?, synced = ?, failed = ?,"
            " blocked = ?, distributed = ?, skipped_channels = ?, unreadable_rows = ?, error = ?,"
            " audit_head_id = ?, audit_head_hash = ? WHERE id = ?",
            (
                utc_now(),
                outcome,
                counts.get("pulled", 0),
                counts.get("synced", 0),
                counts.get("failed", 0),
                counts.get("blocked", 0),
                counts.get("distributed", 0),
                json.dumps(skipped) if skipped else None,
                json.dumps(unreadable) if unreadable else None,
                error,
                head_id or None,
                head_hash if head_id else None,
                run_id,
            ),
        )


def sleep_interruptibly(ctx: JobContext, seconds: float) -> None:
    """Sleep between loop runs, waking at once when a signal sets the stop flag."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ctx.stop.check()
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))
    ctx.stop.check()
