"""Checkpoints: the WAL is emptied when no reader needs it, and a reader's snapshot is kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from custsync_cli.store.database import open_store


def test_checkpoint_empties_the_wal_but_never_takes_a_readers_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "custsync.db"
    wal = tmp_path / "custsync.db-wal"
    with open_store(path, create=True) as store:
        with store.transaction() as conn:
            conn.execute("CREATE TABLE t (x INTEGER)")
            conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5000)])
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 5000
        with store.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (-1)")

        assert store.checkpoint() is False
        assert wal.stat().st_size > 0
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 5000
        assert store.scalar("PRAGMA busy_timeout") > 0
        reader.execute("COMMIT")

        assert store.checkpoint() is True
        assert wal.stat().st_size == 0
        plain = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        assert plain.execute("SELECT count(*) FROM t").fetchone()[0] == 5001
        plain.close()
        reader.close()
