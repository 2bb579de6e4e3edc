"""Channel databases: the contract's schema, a shape check, read-only reads, customer writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from custsync_cli import faults
from custsync_cli.config import ChannelConfig
from custsync_cli.errors import ChannelError

OUTBOX_TABLE = "async_customer_operation"
CUSTOMER_TABLE = "customer"
OUTBOX_COLUMNS = ("replication_counter", "async_account", "operation", "fields", "created_at")
CUSTOMER_COLUMNS = ("async_account", "customer_account", "record", "synced_at")

CHANNEL_SCHEMA = """
CREATE TABLE IF NOT EXISTS async_customer_operation (
  replication_counter INTEGER PRIMARY KEY AUTOINCREMENT,
  async_account TEXT NOT NULL,
  operation     TEXT NOT NULL,
  fields        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  created_by    TEXT
);
CREATE TABLE IF NOT EXISTS customer (
  async_account    TEXT PRIMARY KEY,
  customer_account TEXT,
  record           TEXT,
  synced_at        TEXT
);
"""


class OutboxRow(NamedTuple):
    replication_counter: int
    async_account: Any
    operation: Any
    fields: Any
    created_at: Any
    created_by: Any


def create_channel_database(path: Path) -> None:
    """Create an empty channel database by the contract (for the demo, tests and loaders).

    It holds customer data, so it is created 0600 like the store.
    """
    from custsync_cli.store.database import create_private_file

    create_private_file(path)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(CHANNEL_SCHEMA)
    finally:
        conn.close()


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def check_shape(conn: sqlite3.Connection, name: str, *, need_outbox: bool) -> bool:
    """Raise ChannelError unless the database follows the contract; say if ``customer`` exists."""
    try:
        objects = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError:
        raise ChannelError(f"channel {name}: the database is not SQLite or is corrupt") from None
    kinds = {object_name: kind for kind, object_name in objects}
    hostile = sorted(n for k, n in objects if k in ("trigger", "view"))
    if hostile:
        raise ChannelError(
            f"channel {name}: the database carries triggers or views ({', '.join(hostile)});"
            " refusing to touch it"
        )
    if need_outbox:
        if kinds.get(OUTBOX_TABLE) != "table":
            raise ChannelError(f"channel {name}: table {OUTBOX_TABLE} is missing")
        missing = [c for c in OUTBOX_COLUMNS if c not in _columns(conn, OUTBOX_TABLE)]
        if missing:
            raise ChannelError(
                f"channel {name}: table {OUTBOX_TABLE} lacks column(s) {', '.join(missing)}"
            )
    if kinds.get(CUSTOMER_TABLE) == "table":
        missing = [c for c in CUSTOMER_COLUMNS if c not in _columns(conn, CUSTOMER_TABLE)]
        if missing:
            raise ChannelError(
                f"channel {name}: table {CUSTOMER_TABLE} lacks column(s) {', '.join(missing)}"
            )
        return True
    return False


def _roll_back_hot_journal(path: Path) -> None:
    """Let SQLite roll back a transaction a killed writer left behind (a hot journal).

    A read-only connection cannot do that and fails with SQLITE_READONLY_ROLLBACK, so after
    a crash mid-distribute the channel would be skipped by the next pull. Rolling back only
    restores the channel's last committed state; nothing of custsync is written.
    """
    journal = path.with_name(path.name + "-journal")
    if not journal.exists() or journal.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(path, timeout=10)
    except sqlite3.Error:
        return
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        pass
    finally:
        conn.close()


class ChannelReader:
    """A read-only connection to one channel's outbox."""

    def __init__(self, channel: ChannelConfig) -> None:
        self.channel = channel
        path = channel.database
        if not path.is_file():
            raise ChannelError(f"channel {channel.name}: database {path} not found")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            _roll_back_hot_journal(path)
            self.conn = sqlite3.connect(uri, uri=True)
            self.conn.execute("PRAGMA query_only = ON")
            self.conn.execute("PRAGMA trusted_schema = OFF")
            check_shape(self.conn, channel.name, need_outbox=True)
            self.has_created_by = "created_by" in _columns(self.conn, OUTBOX_TABLE)
        except sqlite3.DatabaseError:
            raise ChannelError(
                f"channel {channel.name}: {path} is not a readable SQLite database"
            ) from None

    def close(self) -> None:
        self.conn.close()

    def read_after(self, counter: int, limit: int) -> list[OutboxRow]:
        created_by = "created_by" if self.has_created_by else "NULL"
        try:
            rows = self.conn.execute(
                "SELECT replication_counter, async_account, operation, fields, created_at,"
                f" {created_by} FROM {OUTBOX_TABLE} WHERE replication_counter > ?"
                " ORDER BY replication_counter LIMIT ?",
                (counter, limit),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ChannelError(
                f"channel {self.channel.name}: cannot read the outbox: {exc}"
            ) from None
        return list(map(OutboxRow._make, rows))


def write_customers(channel: ChannelConfig, records: list[tuple[str, str, str, str]]) -> None:
    """Upsert (async_account, customer_account, record, synced_at) rows in one transaction."""
    path = channel.database
    if not path.is_file():
        raise ChannelError(f"channel {channel.name}: database {path} not found")
    try:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    except sqlite3.Error:
        raise ChannelError(f"channel {channel.name}: cannot open {path} for writing") from None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        if not check_shape(conn, channel.name, need_outbox=False):
            conn.execute(CHANNEL_SCHEMA.split(";")[1])
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO {CUSTOMER_TABLE} (async_account, customer_account, record, synced_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (async_account) DO UPDATE SET"
            " customer_account = excluded.customer_account, record = excluded.record,"
            " synced_at = excluded.synced_at",
            records,
        )
        faults.point("distribute.channel_before_commit")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise ChannelError(f"channel {channel.name}: cannot write customers: {exc}") from None
    finally:
        conn.close()
