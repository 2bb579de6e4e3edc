"""The batch jobs, in the order a run takes them, and the outcomes a job run can end with."""

from __future__ import annotations

from enum import StrEnum


class Job(StrEnum):
    """The three batch jobs; a run takes them in this order."""

    pull = "pull"
    sync = "sync"
    distribute = "distribute"


class Outcome(StrEnum):
    """How a job run ended; ``running`` until it does."""

    ok = "ok"
    partial = "partial"
    failed = "failed"
    crashed = "crashed"
    interrupted = "interrupted"
    running = "running"


JOB_ORDER = tuple(job.value for job in Job)
# A last run that ended so makes status unhealthy and points the operator at the history.
UNHEALTHY_OUTCOMES = frozenset({Outcome.failed, Outcome.crashed, Outcome.partial})
