"""SQLite channel databases: the contract's schema, a shape check, read-only reads, writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custsync_cli import faults
from custsync_cli.channels.base import BadText, CustomerRecord, OutboxRow, UnusableCounters
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


# A counter custsync can key an operation by: an SQLite integer above zero. A contract outbox
# (``INTEGER PRIMARY KEY``) has nothing else; any other table may hold text, blobs or reals.
USABLE_COUNTER = "typeof(replication_counter) = 'integer' AND replication_counter > 0"
# Reported by position (rowid) when the table has one; never with the row's values.
UNUSABLE_SAMPLE = 10


def _tolerant_text(raw: bytes) -> str | BadText:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadText(raw)


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


def append_outbox_rows(path: Path, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
    """Append (async_account, operation, fields, created_at, created_by) rows to the outbox of
    the channel database at ``path``, in one transaction (for the demo and loaders)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                f"INSERT INTO {OUTBOX_TABLE} (async_account, operation, fields,"
                " created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
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
            info = self.conn.execute(f"PRAGMA table_info({OUTBOX_TABLE})").fetchall()
            self.has_created_by = "created_by" in {row[1] for row in info}
            self.has_rowid = _has_rowid(self.conn)
            keys = [(row[1], str(row[2]).upper()) for row in info if row[5]]
            # Only then is every counter a distinct integer: SQLite's rowid itself.
            self.counter_is_rowid = self.has_rowid and keys == [("replication_counter", "INTEGER")]
        except sqlite3.DatabaseError:
            raise ChannelError(
                f"channel {channel.name}: {path} is not a readable SQLite database"
            ) from None
        created_by = "created_by" if self.has_created_by else "NULL"
        self._select = (
            "SELECT replication_counter, async_account, operation, fields, created_at,"
            f" {created_by} FROM {OUTBOX_TABLE}"
        )
        self._usable = "" if self.counter_is_rowid else f" AND {USABLE_COUNTER}"

    def close(self) -> None:
        self.conn.close()

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """Rows of ``sql``; TEXT that is not UTF-8 comes back as ``BadText`` instead of failing.

        The strict decoder is the fast path; the tolerant one is used only for a read it fails.
        Errors are described by SQLite's code alone: Python's decode error quotes the value.
        """
        try:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError:
                self.conn.text_factory = _tolerant_text
                try:
                    return self.conn.execute(sql, params).fetchall()
                finally:
                    self.conn.text_factory = str
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            raise ChannelError(
                f"channel {self.channel.name}: cannot read the outbox ({code})"
            ) from None

    def read_after(self, counter: int, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` rows above ``counter`` (more if the last counter is shared)."""
        rows = self._query(
            f"{self._select} WHERE replication_counter > ?{self._usable}"
            " ORDER BY replication_counter LIMIT ?",
            (counter, limit),
        )
        if len(rows) == limit and not self.counter_is_rowid:
            last = rows[-1][0]
            rows = [r for r in rows if r[0] != last] + self._query(
                f"{self._select} WHERE replication_counter = ?{self._usable}", (last,)
            )
        return list(map(OutboxRow._make, rows))

    def rows_at(self, counter: int) -> list[OutboxRow]:
        """The row(s) the outbox holds at ``counter`` now."""
        rows = self._query(
            f"{self._select} WHERE replication_counter = ?{self._usable}", (counter,)
        )
        return list(map(OutboxRow._make, rows))

    def highest_counter(self) -> int:
        """The highest usable counter in the outbox, 0 if it has none."""
        usable = "" if self.counter_is_rowid else f" WHERE {USABLE_COUNTER}"
        rows = self._query(f"SELECT max(replication_counter) FROM {OUTBOX_TABLE}{usable}", ())
        return int(rows[0][0] or 0)

    def unusable_counters(self) -> UnusableCounters:
        """Rows whose counter is not a positive integer (in a contract outbox: zero or below)."""
        if self.counter_is_rowid:
            where = "WHERE replication_counter <= 0"
        else:
            where = f"WHERE NOT ({USABLE_COUNTER}) OR replication_counter IS NULL"
        count = int(self._query(f"SELECT count(*) FROM {OUTBOX_TABLE} {where}", ())[0][0])
        if not count or not self.has_rowid:
            return UnusableCounters(count, [])
        sample = self._query(
            f"SELECT rowid, typeof(replication_counter) FROM {OUTBOX_TABLE} {where}"
            " ORDER BY rowid LIMIT ?",
            (UNUSABLE_SAMPLE,),
        )
        return UnusableCounters(count, [(int(r[0]), str(r[1])) for r in sample])


def _has_rowid(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute(f"SELECT rowid FROM {OUTBOX_TABLE} LIMIT 0")
    except sqlite3.OperationalError:
        return False
    return True


class SqliteOutboxChannel:
    """A channel that is an SQLite database with the contract's outbox and customer tables."""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.name = config.name

    def location(self) -> str:
        return str(self.config.database)

    def open_reader(self) -> ChannelReader:
        return ChannelReader(self.config)

    def write_customers(self, records: Sequence[CustomerRecord]) -> None:
        """Upsert (async_account, customer_account, record, synced_at) rows in one transaction."""
        channel = self.config
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
                f"INSERT INTO {CUSTOMER_TABLE} (async_account, customer_account, record,"
                " synced_at) VALUES (?, ?, ?, ?) ON CONFLICT (async_account) DO UPDATE SET"
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
