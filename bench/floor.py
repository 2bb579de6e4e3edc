"""The raw-SQLite floor: the least work each job must do, with plain sqlite3 and no validation.

pull reads every outbox row and inserts it as an operation; sync inserts a customer for each
create and updates every status; distribute writes the accounts back to the channels. Each job
is one transaction with ``executemany``. custsync's timings are compared against these.

``--indexed`` does the same work on a store indexed the way custsync's list filters need it:
an index per filter on the operations, one row per field value with an index on (name, value)
for ``--where``. It separates the cost of those indexes from
the cost of custsync's own work (validation, audit log, history).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

CHANNELS = ("web-se", "store-001", "store-042", "pos-oslo")
SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  replication_counter INTEGER NOT NULL,
  operation TEXT NOT NULL,
  async_account TEXT NOT NULL,
  fields TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  status TEXT NOT NULL,
  customer_account TEXT,
  UNIQUE (channel, replication_counter)
);
CREATE TABLE IF NOT EXISTS customers (
  account TEXT PRIMARY KEY,
  async_account TEXT NOT NULL UNIQUE,
  fields TEXT NOT NULL
);
"""


INDEXES = """
CREATE INDEX IF NOT EXISTS operations_timestamp ON operations (timestamp, id);
CREATE INDEX IF NOT EXISTS operations_status ON operations (status, timestamp, id);
CREATE INDEX IF NOT EXISTS operations_channel ON operations (channel, timestamp, id);
CREATE INDEX IF NOT EXISTS operations_operation ON operations (operation, timestamp, id);
CREATE INDEX IF NOT EXISTS operations_customer_account
  ON operations (customer_account, timestamp, id);
CREATE INDEX IF NOT EXISTS operations_async_account ON operations (async_account, timestamp, id);
CREATE INDEX IF NOT EXISTS operations_to_sync ON operations (id) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS operation_fields (
  operation_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (operation_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS operation_fields_value ON operation_fields (name, value);
"""


def connect(path: Path, *, indexed: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    if indexed:
        conn.executescript(INDEXES)
    return conn


def pull(store: sqlite3.Connection, root: Path, *, indexed: bool = False) -> None:
    store.execute("BEGIN")
    for name in CHANNELS:
        channel = sqlite3.connect(f"file:{root / 'channels' / (name + '.db')}?mode=ro", uri=True)
        rows = channel.execute(
            "SELECT replication_counter, operation, async_account, fields, created_at"
            " FROM async_customer_operation ORDER BY replication_counter"
        )
        if not indexed:
            store.executemany(
                "INSERT INTO operations (channel, replication_counter, operation, async_account,"
                " fields, timestamp, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                ((name, *row) for row in rows),
            )
        else:
            next_id = store.execute("SELECT coalesce(max(id), 0) + 1 FROM operations").fetchone()[0]
            operations, values = [], []
            for op_id, row in enumerate(rows, start=next_id):
                operations.append((op_id, name, *row))
                fields = json.loads(row[3])
                values.extend((op_id, key, str(value)) for key, value in fields.items())
            store.executemany(
                "INSERT INTO operations (id, channel, replication_counter, operation,"
                " async_account, fields, timestamp, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                operations,
            )
            store.executemany(
                "INSERT INTO operation_fields (operation_id, name, value) VALUES (?, ?, ?)", values
            )
        channel.close()
    store.execute("COMMIT")


def sync(store: sqlite3.Connection) -> None:
    store.execute("BEGIN")
    rows = store.execute(
        "SELECT id, operation, async_account, fields FROM operations WHERE status = 'pending'"
    ).fetchall()
    creates = [
        (f"C{op_id:08d}", account, fields)
        for op_id, operation, account, fields in rows
        if operation == "create_customer"
    ]
    store.executemany(
        "INSERT OR IGNORE INTO customers (account, async_account, fields) VALUES (?, ?, ?)",
        creates,
    )
    store.executemany(
        "UPDATE operations SET status = 'synced', customer_account = ? WHERE id = ?",
        [(f"C{op_id:08d}", op_id) for op_id, *_ in rows],
    )
    store.execute("COMMIT")


def distribute(store: sqlite3.Connection, root: Path) -> None:
    per_channel: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for channel, account, async_account, fields in store.execute(
        "SELECT o.channel, c.account, c.async_account, c.fields FROM operations o"
        " JOIN customers c ON c.async_account = o.async_account"
        " WHERE o.operation = 'create_customer'"
    ):
        per_channel[channel].append((async_account, account, fields))
    for name, records in per_channel.items():
        conn = sqlite3.connect(root / "channels" / f"{name}.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR REPLACE INTO customer (async_account, customer_account, record, synced_at)"
            " VALUES (?, ?, ?, '2026-01-01T00:00:00Z')",
            records,
        )
        conn.execute("COMMIT")
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, help="a workspace made by bench/generate.py")
    parser.add_argument("--job", choices=("pull", "sync", "distribute", "all"), default="all")
    parser.add_argument("--store", default="floor.db", help="store file inside the workspace")
    parser.add_argument(
        "--indexed", action="store_true", help="index the store as custsync's list filters need"
    )
    args = parser.parse_args()
    store = connect(args.root / args.store, indexed=args.indexed)
    if args.job in ("pull", "all"):
        pull(store, args.root, indexed=args.indexed)
    if args.job in ("sync", "all"):
        sync(store)
    if args.job in ("distribute", "all"):
        distribute(store, args.root)
    store.close()


if __name__ == "__main__":
    main()
