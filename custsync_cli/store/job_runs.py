"""Recording job runs: start, per-batch counts in the batch's own transaction, finish."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from typing import Any

from custsync_cli.store.audit import chain_head
from custsync_cli.store.database import Store
from custsync_cli.store.summary import RUN_COUNTS
from custsync_cli.timeutil import utc_now


def close_stale_runs(store: Store) -> None:
    """Runs left 'running' by a killed process: the caller holds the lock, so none is alive."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE job_runs SET outcome = 'crashed', finished_at = coalesce(finished_at, ?)"
            " WHERE outcome = 'running'",
            (utc_now(),),
        )


def start_run(store: Store, job: str, channel: str | None, actor: str) -> int:
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO job_runs (job, channel, started_at, pid, actor) VALUES (?, ?, ?, ?, ?)",
            (job, channel, utc_now(), os.getpid(), actor),
        )
        return int(cursor.lastrowid or 0)


def add_counts(conn: sqlite3.Connection, run_id: int, counts: Mapping[str, int]) -> None:
    """Add one batch's counts to the run, inside the transaction that commits the batch.

    So a run killed or stopped at any point shows exactly the work it committed.
    """
    changed = {name: int(counts[name]) for name in RUN_COUNTS if counts.get(name)}
    if not changed:
        return
    assignments = ", ".join(f"{name} = {name} + ?" for name in changed)
    conn.execute(
        f"UPDATE job_runs SET {assignments} WHERE id = ?",  # names from RUN_COUNTS only
        (*changed.values(), run_id),
    )


def finish_run(
    store: Store,
    run_id: int,
    outcome: str,
    *,
    skipped: dict[str, str] | None = None,
    unreadable: dict[str, str] | None = None,
    error: str | None = None,
) -> None:
    """Close the run with its outcome and the audit chain head; its counts are already in."""
    with store.transaction() as conn:
        head_id, head_hash = chain_head(conn)
        conn.execute(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, skipped_channels = ?,"
            " unreadable_rows = ?, error = ?, audit_head_id = ?, audit_head_hash = ?"
            " WHERE id = ?",
            (
                utc_now(),
                outcome,
                _json_or_null(skipped),
                _json_or_null(unreadable),
                error,
                head_id or None,
                head_hash if head_id else None,
                run_id,
            ),
        )


def _json_or_null(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value else None
