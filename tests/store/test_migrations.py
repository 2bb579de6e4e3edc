"""Schema migrations: recorded, idempotent, and a store newer than the code is refused."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from custsync_cli.errors import NotFoundError, StoreError
from custsync_cli.store.database import open_store
from custsync_cli.store.migrations import MIGRATIONS


def test_new_store_records_every_migration_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "custsync.db"
    with open_store(path, create=True) as store:
        versions = [r[0] for r in store.conn.execute("SELECT version FROM schema_migrations")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA foreign_keys") == 1
    with open_store(path) as store:
        assert store.scalar("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "custsync.db"
    open_store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'now')",
        (len(MIGRATIONS) + 1,),
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this custsync understands"):
        open_store(path)


def test_missing_store_and_foreign_database(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        open_store(tmp_path / "none.db")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a custsync store"):
        open_store(other)


def test_audit_log_refuses_update_and_delete(tmp_path: Path) -> None:
    from custsync_cli.store.audit import AuditEvent, append_events

    with open_store(tmp_path / "custsync.db", create=True) as store:
        with store.transaction() as conn:
            append_events(conn, [AuditEvent(action="note", actor="t", at="2026-11-26T00:00:00Z")])
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("UPDATE audit_log SET actor = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute("DELETE FROM audit_log")
