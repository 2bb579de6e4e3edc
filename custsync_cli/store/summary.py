"""Aggregate views of the store: counts, oldest ages, error codes, job runs and health."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from custsync_cli.domain.models import Status
from custsync_cli.domain.runs import JOB_ORDER, UNHEALTHY_OUTCOMES

STATUS_ORDER = tuple(status.value for status in Status)
RUN_COUNTS = ("pulled", "synced", "failed", "blocked", "distributed")


def counts_by_channel(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """{channel: {status: count}} with every status present (zero when none)."""
    table: dict[str, dict[str, int]] = {}
    for channel, status, count in conn.execute(
        "SELECT channel, status, count(*) FROM operations GROUP BY channel, status"
    ):
        table.setdefault(channel, dict.fromkeys(STATUS_ORDER, 0))[status] = count
    return dict(sorted(table.items()))


def customer_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM customers").fetchone()[0])


def _parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return round((_parse_time(end) - _parse_time(start)).total_seconds(), 3)


def oldest_operation(conn: sqlite3.Connection, status: str, now: datetime) -> dict[str, Any] | None:
    """The oldest operation in ``status`` by channel timestamp, with its age in seconds."""
    row = conn.execute(
        "SELECT id, channel, timestamp FROM operations WHERE status = ?"
        " ORDER BY timestamp, id LIMIT 1",
        (status,),
    ).fetchone()
    if row is None:
        return None
    age = (now - _parse_time(row[2])).total_seconds()
    return {"id": row[0], "channel": row[1], "timestamp": row[2], "age_seconds": round(age)}


def top_error_codes(conn: sqlite3.Connection, limit: int = 5) -> list[dict[str, Any]]:
    """The error codes of operations failing now, most frequent first, with an example id."""
    rows = conn.execute(
        "SELECT e.code, count(DISTINCT e.operation_id), min(e.operation_id)"
        " FROM operation_errors e JOIN operations o ON o.id = e.operation_id"
        " WHERE o.status = 'failed' GROUP BY e.code ORDER BY 2 DESC, e.code LIMIT ?",
        (limit,),
    ).fetchall()
    return [{"code": r[0], "count": r[1], "example_operation_id": r[2]} for r in rows]


def run_row(row: sqlite3.Row | tuple[Any, ...], keys: list[str]) -> dict[str, Any]:
    """One ``job_runs`` row as the JSON object ``status`` and ``jobs`` print."""
    data = dict(zip(keys, row, strict=True))
    skipped = data.get("skipped_channels")
    return {
        "id": data["id"],
        "job": data["job"],
        "channel": data["channel"],
        "started_at": data["started_at"],
        "finished_at": data["finished_at"],
        "seconds": _seconds_between(data["started_at"], data["finished_at"]),
        **{key: data[key] for key in RUN_COUNTS},
        "outcome": data["outcome"],
        "error": data["error"],
        "skipped_channels": json.loads(skipped) if skipped else {},
        "pid": data["pid"],
        "actor": data["actor"],
    }


_RUN_COLUMNS = (
    "id, job, channel, started_at, finished_at, outcome, pulled, synced, failed, blocked,"
    " distributed, skipped_channels, error, pid, actor"
)
_RUN_KEYS = [name.strip() for name in _RUN_COLUMNS.split(",")]
_IDLE = (
    "(outcome = 'ok' AND skipped_channels IS NULL AND unreadable_rows IS NULL AND "
    + " + ".join(RUN_COUNTS)
    + " = 0)"
)


def last_runs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The latest run of each job that has ever run, in job order."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM job_runs"
        " WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job)"
    ).fetchall()
    runs = [run_row(row, _RUN_KEYS) for row in rows]
    order = {job: index for index, job in enumerate(JOB_ORDER)}
    return sorted(runs, key=lambda run: (order.get(run["job"], len(order)), run["job"]))


def job_history(
    conn: sqlite3.Connection,
    *,
    jobs: list[str] | None = None,
    outcomes: list[str] | None = None,
    since: str | None = None,
    limit: int = 20,
    idle: bool = True,
) -> tuple[list[dict[str, Any]], int, int]:
    """Job runs newest first, how many match in all, and how many idle ones were left out.

    Idle runs ended ``ok`` having done nothing; ``idle=False`` leaves them out (an idle
    ``--loop`` adds three a round).
    """
    where: list[str] = []
    params: list[Any] = []
    if jobs:
        where.append(f"job IN ({', '.join('?' for _ in jobs)})")
        params.extend(jobs)
    if outcomes:
        where.append(f"outcome IN ({', '.join('?' for _ in outcomes)})")
        params.extend(outcomes)
    if since:
        if since.endswith("Z") and "." not in since:
            since = since[:-1] + ".000000Z"  # compare like the stored microsecond form
        where.append("started_at >= ?")
        params.append(since)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    idle_rows, total = conn.execute(
        f"SELECT coalesce(sum({_IDLE}), 0), count(*) FROM job_runs{clause}", params
    ).fetchone()
    hidden = 0 if idle else int(idle_rows)
    if not idle:
        clause += f" {'AND' if where else 'WHERE'} NOT {_IDLE}"
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM job_runs{clause} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [run_row(row, _RUN_KEYS) for row in rows], int(total) - hidden, hidden


@dataclass(frozen=True)
class Thresholds:
    """When the store counts as unhealthy; None switches a check off."""

    max_failed: int | None = 0
    max_pending_age: float | None = None
    max_run_age: float | None = None


@dataclass
class StatusSummary:
    """Everything ``custsync status`` shows, computed in one read transaction."""

    generated_at: str
    counts: dict[str, dict[str, int]]
    totals: dict[str, int]
    oldest: dict[str, dict[str, Any] | None]
    error_codes: list[dict[str, Any]]
    last_runs: list[dict[str, Any]]
    customers: int
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        total = self.totals["total"]
        if self.healthy:
            parts = [f"{self.totals[s]} {s}" for s in STATUS_ORDER if self.totals[s]]
            return f"healthy: {total} operations" + (f", {', '.join(parts)}" if parts else "")
        return "needs attention: " + "; ".join(self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "counts": self.counts,
            "totals": self.totals,
            "oldest": self.oldest,
            "error_codes": self.error_codes,
            "last_runs": self.last_runs,
            "customers": self.customers,
            "healthy": self.healthy,
            "problems": self.problems,
            "verdict": self.verdict,
        }


def status_summary(
    conn: sqlite3.Connection,
    thresholds: Thresholds | None = None,
    *,
    now: datetime | None = None,
    error_codes: int = 5,
) -> StatusSummary:
    """Counts, oldest ages, frequent error codes, last job runs and the health verdict."""
    now = now or datetime.now(UTC)
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN")  # one snapshot, so the numbers agree with each other
    try:
        per_channel = counts_by_channel(conn)
        counts = {
            channel: {**per, "total": sum(per.values())} for channel, per in per_channel.items()
        }
        totals = {s: sum(per[s] for per in per_channel.values()) for s in STATUS_ORDER}
        totals["total"] = sum(totals.values())
        summary = StatusSummary(
            generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            counts=counts,
            totals=totals,
            oldest={
                status: oldest_operation(conn, status, now)
                for status in ("pending", "blocked", "failed")
            },
            error_codes=top_error_codes(conn, error_codes),
            last_runs=last_runs(conn),
            customers=customer_count(conn),
        )
    finally:
        if own_transaction:
            conn.execute("COMMIT")
    summary.problems = health_problems(summary, thresholds or Thresholds(), now)
    return summary


def health_problems(summary: StatusSummary, limits: Thresholds, now: datetime) -> list[str]:
    """The reasons the store is unhealthy under ``limits``, one sentence each."""
    from custsync_cli.timeutil import format_age

    problems: list[str] = []
    failed = summary.totals["failed"]
    if limits.max_failed is not None and failed > limits.max_failed:
        problems.append(f"{failed} failed operation(s) (allowed: {limits.max_failed})")
    pending = summary.oldest.get("pending")
    limit = limits.max_pending_age
    if limit is not None and pending and pending["age_seconds"] > limit:
        waited = format_age(pending["age_seconds"])
        problems.append(
            f"oldest pending operation {pending['id']} is {waited} old"
            f" (allowed: {format_age(limit)})"
        )
    for run in summary.last_runs:
        if run["outcome"] in UNHEALTHY_OUTCOMES:
            why = f": {run['error']}" if run["error"] else ""
            if run["skipped_channels"]:
                why = f": skipped {', '.join(sorted(run['skipped_channels']))}"
            problems.append(f"last {run['job']} run {run['id']} {run['outcome']}{why}")
    if limits.max_run_age is not None:
        if not summary.last_runs:
            problems.append("no job has run yet")
        for run in summary.last_runs:
            age = (now - _parse_time(run["started_at"])).total_seconds()
            if age > limits.max_run_age:
                problems.append(
                    f"last {run['job']} run started {format_age(age)} ago"
                    f" (allowed: {format_age(limits.max_run_age)})"
                )
    return problems
