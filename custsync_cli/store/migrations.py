"""Numbered schema migrations, recorded in ``schema_migrations``; a newer store is refused."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from custsync_cli import faults
from custsync_cli.errors import StoreError
from custsync_cli.timeutil import utc_now

Migration = Callable[[sqlite3.Connection], None]


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in re.split(r";\s*\n", script):
        if statement.strip():
            conn.execute(statement)


# Released migrations are frozen: literal SQL, never built from constants that live code
# may change. A schema change is a new migration appended to MIGRATIONS.


def m001_initial(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
CREATE TABLE operations (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  replication_counter INTEGER NOT NULL,
  operation TEXT NOT NULL,
  async_account TEXT NOT NULL,
  address_id TEXT,
  customer_account TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','blocked','failed','synced','discarded')),
  timestamp TEXT NOT NULL,
  created_by TEXT,
  pulled_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  synced_at TEXT,
  distributed_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  blocked_by INTEGER REFERENCES operations(id),
  discard_reason TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  UNIQUE (channel, replication_counter)
);
CREATE INDEX operations_timestamp ON operations (timestamp, id);
CREATE INDEX operations_status ON operations (status, timestamp, id);
CREATE INDEX operations_channel ON operations (channel, timestamp, id);
CREATE INDEX operations_operation ON operations (operation, timestamp, id);
CREATE INDEX operations_customer_account ON operations (customer_account, timestamp, id);
CREATE INDEX operations_async_account ON operations (async_account, timestamp, id);
CREATE INDEX operations_blocked_by ON operations (blocked_by) WHERE blocked_by IS NOT NULL;
CREATE INDEX operations_to_sync ON operations (id) WHERE status = 'pending';
CREATE INDEX operations_to_distribute ON operations (id)
  WHERE status = 'synced' AND distributed_at IS NULL;

CREATE TABLE operation_fields (
  operation_id INTEGER NOT NULL REFERENCES operations(id),
  name TEXT NOT NULL,
  channel_value TEXT,
  new_value TEXT,
  old_value TEXT,
  edited INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0,
  conflict_with INTEGER,
  PRIMARY KEY (operation_id, name)
) WITHOUT ROWID;
CREATE INDEX operation_fields_value ON operation_fields (name, new_value);

CREATE TABLE operation_errors (
  operation_id INTEGER NOT NULL REFERENCES operations(id),
  field TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX operation_errors_operation ON operation_errors (operation_id);
CREATE INDEX operation_errors_code ON operation_errors (code, operation_id);

CREATE TABLE customers (
  account TEXT PRIMARY KEY,
  async_account TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  type TEXT,
  first_name TEXT,
  middle_name TEXT,
  last_name TEXT,
  organization_name TEXT,
  email TEXT,
  phone TEXT,
  customer_group TEXT,
  currency TEXT,
  language TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  created_by_operation INTEGER REFERENCES operations(id)
);
CREATE INDEX customers_email ON customers (email COLLATE NOCASE);

CREATE TABLE addresses (
  customer_account TEXT NOT NULL REFERENCES customers(account),
  address_id TEXT NOT NULL,
  name TEXT,
  street TEXT,
  city TEXT,
  county TEXT,
  state TEXT,
  zip_code TEXT,
  country TEXT,
  purpose TEXT,
  is_primary TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (customer_account, address_id)
);

CREATE TABLE number_sequences (
  name TEXT PRIMARY KEY,
  prefix TEXT NOT NULL,
  width INTEGER NOT NULL,
  next_value INTEGER NOT NULL,
  last_value INTEGER NOT NULL
);

CREATE TABLE channel_watermarks (
  channel TEXT PRIMARY KEY,
  replication_counter INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE job_runs (
  id INTEGER PRIMARY KEY,
  job TEXT NOT NULL,
  channel TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  outcome TEXT NOT NULL DEFAULT 'running',
  pulled INTEGER NOT NULL DEFAULT 0,
  synced INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0,
  distributed INTEGER NOT NULL DEFAULT 0,
  skipped_channels TEXT,
  error TEXT,
  pid INTEGER,
  actor TEXT,
  audit_head_id INTEGER,
  audit_head_hash TEXT
);
CREATE INDEX job_runs_job ON job_runs (job, started_at);

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
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""",
    )


def m002_channel_counters(conn: sqlite3.Connection) -> None:
    """The outbox row at each watermark, and rows a run could not key by a counter."""
    _run(
        conn,
        """
ALTER TABLE channel_watermarks ADD COLUMN fingerprint TEXT;
ALTER TABLE job_runs ADD COLUMN unreadable_rows TEXT
""",
    )


def m003_audit_anchors(conn: sqlite3.Connection) -> None:
    """Every append records the chain head; an existing log is anchored where it ends now."""
    _run(
        conn,
        """
CREATE TABLE audit_anchors (
  id INTEGER PRIMARY KEY,
  head_id INTEGER NOT NULL,
  head_hash TEXT NOT NULL
);
CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END;
INSERT INTO audit_anchors (head_id, head_hash)
  SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1
""",
    )


def m004_archives(conn: sqlite3.Connection) -> None:
    """A record of each sealed archive; audit events an archive holds may leave the store."""
    _run(
        conn,
        """
CREATE TABLE archives (
  id INTEGER PRIMARY KEY,
  file_name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  cutoff TEXT NOT NULL,
  operations INTEGER NOT NULL,
  first_operation_id INTEGER,
  last_operation_id INTEGER,
  first_event_id INTEGER NOT NULL,
  last_event_id INTEGER NOT NULL,
  start_hash TEXT NOT NULL,
  end_hash TEXT NOT NULL,
  from_time TEXT NOT NULL,
  to_time TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE TRIGGER archives_no_update BEFORE UPDATE ON archives
BEGIN SELECT RAISE(ABORT, 'archives is append-only'); END;
CREATE TRIGGER archives_no_delete BEFORE DELETE ON archives
BEGIN SELECT RAISE(ABORT, 'archives is append-only'); END;
CREATE TABLE retention_runs (
  day TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  archive_id INTEGER REFERENCES archives(id)
);
DROP TRIGGER IF EXISTS audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM archives WHERE archives.last_event_id >= OLD.id)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""",
    )


def m005_fields_in_row(conn: sqlite3.Connection) -> None:
    """Field values move from one row per field into JSON objects in the operation row, with
    expression indexes on the fields searched most; the other fields are found by a scan."""
    _run(
        conn,
        """
ALTER TABLE operations ADD COLUMN new_values TEXT NOT NULL DEFAULT '{}';
ALTER TABLE operations ADD COLUMN channel_values TEXT;
ALTER TABLE operations ADD COLUMN old_values TEXT;
ALTER TABLE operations ADD COLUMN edited_fields TEXT;
ALTER TABLE operations ADD COLUMN dropped_fields TEXT;
ALTER TABLE operations ADD COLUMN conflicts TEXT;
UPDATE operations SET
  new_values = (SELECT json_group_object(name, new_value) FROM (SELECT name, new_value
    FROM operation_fields WHERE operation_id = operations.id AND dropped = 0 ORDER BY name)),
  channel_values = CASE WHEN EXISTS (SELECT 1 FROM operation_fields
      WHERE operation_id = operations.id
        AND (edited = 1 OR dropped = 1 OR channel_value IS NOT new_value))
    THEN (SELECT json_group_object(name, channel_value) FROM (SELECT name, channel_value
      FROM operation_fields WHERE operation_id = operations.id ORDER BY name)) END,
  old_values = (SELECT json_group_object(name, old_value) FROM (SELECT name, old_value
    FROM operation_fields WHERE operation_id = operations.id AND old_value IS NOT NULL
    ORDER BY name) HAVING count(*) > 0),
  edited_fields = (SELECT json_group_array(name) FROM (SELECT name FROM operation_fields
    WHERE operation_id = operations.id AND edited = 1 ORDER BY name) HAVING count(*) > 0),
  dropped_fields = (SELECT json_group_object(name, new_value) FROM (SELECT name, new_value
    FROM operation_fields WHERE operation_id = operations.id AND dropped = 1 ORDER BY name)
    HAVING count(*) > 0),
  conflicts = (SELECT json_group_object(name, conflict_with) FROM (SELECT name, conflict_with
    FROM operation_fields WHERE operation_id = operations.id AND conflict_with IS NOT NULL
    ORDER BY name) HAVING count(*) > 0);
DROP INDEX operation_fields_value;
DROP TABLE operation_fields;
CREATE INDEX operations_email ON operations (json_extract(new_values, '$.email'))
  WHERE json_extract(new_values, '$.email') IS NOT NULL;
CREATE INDEX operations_phone ON operations (json_extract(new_values, '$.phone'))
  WHERE json_extract(new_values, '$.phone') IS NOT NULL;
CREATE INDEX operations_first_name ON operations (json_extract(new_values, '$.first_name'))
  WHERE json_extract(new_values, '$.first_name') IS NOT NULL;
CREATE INDEX operations_last_name ON operations (json_extract(new_values, '$.last_name'))
  WHERE json_extract(new_values, '$.last_name') IS NOT NULL;
CREATE INDEX operations_organization_name
  ON operations (json_extract(new_values, '$.organization_name'))
  WHERE json_extract(new_values, '$.organization_name') IS NOT NULL
""",
    )


def m006_compact_audit(conn: sqlite3.Connection) -> None:
    """The previous event's hash is no longer stored beside each event (it is that event's).

    The delete trigger keeps m004's rule: only events an archive holds may leave the store.

    Events already written keep their hex text hash and details, verified by the old rule;
    new events store a 32-byte blob hash (see store/audit.py and docs/reliability.md).
    """
    _run(
        conn,
        """
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;
ALTER TABLE audit_log DROP COLUMN prev_hash;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM archives WHERE archives.last_event_id >= OLD.id)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
""",
    )


MIGRATIONS: list[Migration] = [
    m001_initial,
    m002_channel_counters,
    m003_audit_anchors,
    m004_archives,
    m005_fields_in_row,
    m006_compact_audit,
]


def schema_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    return int(
        conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
    )


def _refuse_newer(conn: sqlite3.Connection, path: Path) -> int:
    """The store's schema version; StoreError when it is newer than this code."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise StoreError(
            f"store {path} has schema version {current}, newer than this custsync "
            f"understands ({len(MIGRATIONS)}); upgrade custsync"
        )
    return current


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """For a store opened read-only: refuse one this code cannot read as it is."""
    current = _refuse_newer(conn, path)
    if current == 0:
        raise StoreError(f"{path} is not a custsync store (no schema)")
    if current < len(MIGRATIONS):
        raise StoreError(
            f"store {path} has schema version {current}, older than this custsync"
            f" ({len(MIGRATIONS)}); run a command that writes (e.g. 'custsync run-jobs')"
            " to upgrade it"
        )


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply every migration the store has not recorded, all in one write transaction."""
    current = _refuse_newer(conn, path)
    if current == len(MIGRATIONS):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        current = schema_version(conn)
        if (
            current == 0
            and conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            ).fetchone()[0]
        ):
            raise StoreError(f"{path} is an SQLite database but not a custsync store")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            migration(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, migration.__name__, utc_now()),
            )
        faults.point("migrate.before_commit")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
