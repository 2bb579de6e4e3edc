"""Store upkeep after retention: free space, VACUUM, and the day retention last ran."""

from __future__ import annotations

import sqlite3

from custsync_cli.errors import StoreError
from custsync_cli.store.database import Store, describe_sqlite_error


def free_space(conn: sqlite3.Connection) -> tuple[int, int]:
    """(bytes on the free list, which new rows reuse; bytes of the whole store file)."""
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    return free * page_size, pages * page_size


def vacuum(store: Store) -> None:
    """Give the free pages back to the file system (rewrites the whole store)."""
    try:
        store.conn.execute("VACUUM")
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, store.path)) from None
    store.checkpoint()


def record_retention_day(conn: sqlite3.Connection, at: str, archive_id: int | None) -> None:
    """Note that retention ran on ``at``'s day (UTC); call in the archive's transaction."""
    conn.execute(
        "INSERT INTO retention_runs (day, at, archive_id) VALUES (?, ?, ?)"
        " ON CONFLICT (day) DO UPDATE SET at = excluded.at,"
        " archive_id = coalesce(excluded.archive_id, retention_runs.archive_id)",
        (at[:10], at, archive_id),
    )


def retention_ran_on(conn: sqlite3.Connection, day: str) -> bool:
    return conn.execute("SELECT 1 FROM retention_runs WHERE day = ?", (day,)).fetchone() is not None
