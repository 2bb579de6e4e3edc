"""Turn a store's audit log back into the form custsync wrote before migration m006."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from custsync_cli.store.audit import GENESIS_HASH, event_hash

# The audit log as m001 made it and m004 left it: the previous event's hash stored beside
# each event, hashes as 64 hex digits. Literal, like the migration, so later changes cannot
# shift it.
_LEGACY_TABLE = """
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  operation_id INTEGER,
  customer_account TEXT,
  channel TEXT,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_operation ON audit_log (operation_id) WHERE operation_id IS NOT NULL;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM archives WHERE archives.last_event_id >= OLD.id)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


def as_written_before_m006(store: Path) -> sqlite3.Connection:
    """Rewrite the log, its anchors and the job runs' heads as schema version 5 held them.

    Returns an open connection (autocommit) to the store, now at schema version 5.
    """
    conn = sqlite3.connect(store, isolation_level=None)
    rows = conn.execute(
        "SELECT id, at, actor, action, operation_id, customer_account, channel, details"
        " FROM audit_log ORDER BY id"
    ).fetchall()
    conn.execute("BEGIN")
    conn.execute("DROP TABLE audit_log")
    conn.execute("DROP TRIGGER audit_anchors_no_update")
    for statement in _LEGACY_TABLE.split(";\n"):
        if statement.strip():
            conn.execute(statement)
    prev = GENESIS_HASH
    for row in rows:
        digest = event_hash(prev, *row)
        conn.execute(
            "INSERT INTO audit_log (id, at, actor, action, operation_id, customer_account,"
            " channel, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, prev, digest),
        )
        for table, id_column, hash_column in (
            ("audit_anchors", "head_id", "head_hash"),
            ("job_runs", "audit_head_id", "audit_head_hash"),
        ):
            conn.execute(
                f"UPDATE {table} SET {hash_column} = ? WHERE {id_column} = ?", (digest, row[0])
            )
        prev = digest
    conn.execute(
        "CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors"
        " BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END"
    )
    conn.execute("DELETE FROM schema_migrations WHERE version >= 6")
    conn.execute("COMMIT")
    return conn
