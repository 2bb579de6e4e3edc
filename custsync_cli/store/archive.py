"""Sealed archive files: plan a cut of finished history, copy it out, record it, read it back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custsync_cli.errors import StoreError
from custsync_cli.store.audit import chain_head, chain_start, hash_hex
from custsync_cli.store.database import (
    BUSY_TIMEOUT_MS,
    Store,
    create_private_file,
    describe_sqlite_error,
    placeholders,
)
from custsync_cli.store.operations import ADDRESS_KINDS

FILE_PREFIX = "custsync-"
PARTIAL_SUFFIX = ".partial"
INFO_TABLE = "archive_info"
_UNFINISHED = (
    "{o}.status IN ('pending', 'blocked', 'failed')"
    " OR ({o}.status = 'synced' AND {o}.distributed_at IS NULL)"
)
_COPY_CHUNK = 2000


@dataclass
class Plan:
    """The prefix of the audit chain (and the operations it holds) that an archive takes."""

    cutoff: str
    first_event_id: int
    last_event_id: int
    start_hash: str
    end_hash: str = ""
    operations: int = 0
    first_operation_id: int | None = None
    last_operation_id: int | None = None
    from_time: str = ""
    to_time: str = ""
    held_by: int | None = None  # the operation whose history stops the cut before the cutoff

    @property
    def empty(self) -> bool:
        return self.last_event_id < self.first_event_id

    @property
    def events(self) -> int:
        return max(self.last_event_id - self.first_event_id + 1, 0)

    def file_stem(self) -> str:
        return f"{FILE_PREFIX}{self.from_time[:10]}_{self.to_time[:10]}"


def _held_from(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The first event of any operation that must stay, and that operation: not finished, or a
    synced one that a waiting operation of the same customer record would compare against
    (``later_synced_fields`` looks at synced operations later than the one it decides)."""
    same_kind = (
        f"((s.operation IN ({placeholders(len(ADDRESS_KINDS))}))"
        f" = (u.operation IN ({placeholders(len(ADDRESS_KINDS))})))"
    )
    row = conn.execute(
        "SELECT first, id FROM (SELECT held.id,"
        " (SELECT min(e.id) FROM audit_log e WHERE e.operation_id = held.id) AS first"
        " FROM (SELECT o.id FROM operations o WHERE " + _UNFINISHED.format(o="o") + " UNION"
        " SELECT s.id FROM operations u JOIN operations s ON s.async_account = u.async_account"
        " AND s.status = 'synced' AND s.address_id IS u.address_id AND s.id != u.id"
        " AND (s.timestamp > u.timestamp OR (s.timestamp = u.timestamp AND s.id > u.id))"
        f" AND {same_kind} WHERE " + _UNFINISHED.format(o="u") + ") held)"
        " WHERE first IS NOT NULL ORDER BY first LIMIT 1",
        (*ADDRESS_KINDS, *ADDRESS_KINDS),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def plan_cut(conn: sqlite3.Connection, cutoff: str) -> Plan:
    """The longest prefix of the store's chain whose events are older than ``cutoff`` and
    belong only to finished operations that nothing waiting needs, every event of each."""
    start_id, start_hash = chain_start(conn)
    plan = Plan(cutoff, start_id + 1, start_id, start_hash)
    bound = chain_head(conn)[0]
    newer = conn.execute("SELECT min(id) FROM audit_log WHERE at >= ?", (cutoff,)).fetchone()[0]
    if newer is not None:
        bound = min(bound, int(newer) - 1)
    held = _held_from(conn)
    if held is not None and held[0] - 1 < bound:
        bound = held[0] - 1
        plan.held_by = held[1]
    # A cut may not fall inside an operation's events: walk the operations by first event.
    best, reach = start_id, start_id
    for first, last in conn.execute(
        "SELECT min(id), max(id) FROM audit_log WHERE operation_id IS NOT NULL"
        " GROUP BY operation_id HAVING min(id) <= ? ORDER BY 1",
        (bound,),
    ):
        if reach < first:
            best = int(first) - 1
        reach = max(reach, int(last))
    if reach <= bound:
        best = bound
    plan.last_event_id = best
    if plan.empty:
        return plan
    row = conn.execute(
        "SELECT min(at), max(at), (SELECT hash FROM audit_log WHERE id = ?) FROM audit_log"
        " WHERE id BETWEEN ? AND ?",
        (best, plan.first_event_id, best),
    ).fetchone()
    plan.from_time, plan.to_time, plan.end_hash = str(row[0]), str(row[1]), hash_hex(row[2])
    row = conn.execute(
        "SELECT count(DISTINCT operation_id), min(operation_id), max(operation_id)"
        " FROM audit_log WHERE id BETWEEN ? AND ?",
        (plan.first_event_id, best),
    ).fetchone()
    plan.operations = int(row[0])
    plan.first_operation_id, plan.last_operation_id = row[1], row[2]
    return plan


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _operation_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables whose rows belong to one operation: an ``operation_id`` referencing it."""
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    return [
        name
        for name in names
        if any(
            fk[2] == "operations" and fk[3] == "operation_id"
            for fk in conn.execute(f'PRAGMA foreign_key_list("{name}")')
        )
    ]


def _selections(conn: sqlite3.Connection, plan: Plan) -> list[tuple[str, str, tuple[Any, ...]]]:
    """(table, WHERE clause, parameters) for every row the archive carries."""
    span = (plan.first_event_id, plan.last_event_id)
    chosen: list[tuple[str, str, tuple[Any, ...]]] = [
        ("operations", "id IN (SELECT id FROM temp.archived_operations)", ())
    ]
    chosen += [
        (table, "operation_id IN (SELECT id FROM temp.archived_operations)", ())
        for table in _operation_tables(conn)
    ]
    chosen.append(("audit_log", "id BETWEEN ? AND ?", span))
    chosen.append(("audit_anchors", "head_id BETWEEN ? AND ?", span))
    return chosen


def mark_operations(conn: sqlite3.Connection, plan: Plan) -> None:
    """Note the planned operations in a temporary table, inside the archive's transaction."""
    conn.execute("DROP TABLE IF EXISTS temp.archived_operations")
    conn.execute(
        "CREATE TEMP TABLE archived_operations AS SELECT DISTINCT operation_id AS id"
        " FROM audit_log WHERE id BETWEEN ? AND ? AND operation_id IS NOT NULL",
        (plan.first_event_id, plan.last_event_id),
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_archive(conn: sqlite3.Connection, plan: Plan, target: Path, created_at: str) -> None:
    """Copy the planned rows into a new, sealed SQLite file at ``target`` (0600), fsynced.

    Each table is made with the store's own ``CREATE TABLE`` and copied with the columns the
    store has, whatever its shape. The file is written under a ``.partial`` name and renamed
    when complete, so a crash leaves either nothing, a ``.partial``, or a whole archive.
    """
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    create_private_file(partial)
    dest = sqlite3.connect(partial, isolation_level=None)
    try:
        dest.execute("PRAGMA journal_mode = DELETE")
        dest.execute("BEGIN")
        selections = _selections(conn, plan)
        for table, where, params in selections:
            sql = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()[0]
            dest.execute(sql)
            columns = ", ".join(f'"{c}"' for c in _columns(conn, table))
            width = len(_columns(conn, table))
            reader = conn.cursor()
            reader.row_factory = None
            reader.execute(f'SELECT {columns} FROM "{table}" WHERE {where}', params)
            insert = f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders(width)})'
            while rows := reader.fetchmany(_COPY_CHUNK):
                dest.executemany(insert, rows)
        info = plan_record(plan, created_at)
        dest.execute(f"CREATE TABLE {INFO_TABLE} ({', '.join(info)})")
        dest.execute(
            f"INSERT INTO {INFO_TABLE} VALUES ({placeholders(len(info))})", tuple(info.values())
        )
        for table in [*(t for t, _, _ in selections), INFO_TABLE]:
            for event in ("INSERT", "UPDATE", "DELETE"):
                dest.execute(
                    f'CREATE TRIGGER "{table}_sealed_{event.lower()}" BEFORE {event}'
                    f" ON \"{table}\" BEGIN SELECT RAISE(ABORT, 'the archive is sealed'); END"
                )
        dest.execute("COMMIT")
    except sqlite3.Error as exc:
        dest.close()
        partial.unlink(missing_ok=True)
        reason = describe_sqlite_error(exc, partial)
        raise StoreError(f"cannot write archive {target}: {reason}") from None
    except BaseException:
        dest.close()
        partial.unlink(missing_ok=True)
        raise
    dest.close()
    _fsync(partial)
    os.replace(partial, target)
    _fsync(target.parent)


def plan_record(plan: Plan, created_at: str) -> dict[str, Any]:
    """What the store and the archive file both say about an archive (without its digest)."""
    return {
        "created_at": created_at,
        "cutoff": plan.cutoff,
        "operations": plan.operations,
        "first_operation_id": plan.first_operation_id,
        "last_operation_id": plan.last_operation_id,
        "first_event_id": plan.first_event_id,
        "last_event_id": plan.last_event_id,
        "start_hash": plan.start_hash,
        "end_hash": plan.end_hash,
        "from_time": plan.from_time,
        "to_time": plan.to_time,
    }


def plan_record_keys() -> tuple[str, ...]:
    return tuple(plan_record(Plan("", 0, 0, ""), ""))


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_and_remove(
    conn: sqlite3.Connection, plan: Plan, file_name: str, created_at: str, digest: str, size: int
) -> int:
    """Record the archive and delete what it holds from the store; call in one transaction.

    The record comes first: the audit log's delete trigger lets only archived events go.
    """
    record = {"file_name": file_name, **plan_record(plan, created_at), "sha256": digest}
    record["bytes"] = size
    cursor = conn.execute(
        f"INSERT INTO archives ({', '.join(record)}) VALUES ({placeholders(len(record))})",
        tuple(record.values()),
    )
    for table in _operation_tables(conn):
        conn.execute(
            f'DELETE FROM "{table}" WHERE operation_id IN (SELECT id FROM temp.archived_operations)'
        )
    conn.execute("DELETE FROM operations WHERE id IN (SELECT id FROM temp.archived_operations)")
    conn.execute(
        "DELETE FROM audit_log WHERE id BETWEEN ? AND ?",
        (plan.first_event_id, plan.last_event_id),
    )
    return int(cursor.lastrowid or 0)


@contextmanager
def without_foreign_keys(store: Store) -> Iterator[None]:
    """Kept rows may name an archived operation (a customer's create, an operation that once
    waited for it): those ids stay, and ``archive_holding`` finds where the operation went."""
    store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        store.conn.execute("PRAGMA foreign_keys = ON")


def archives(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every archive record, oldest first."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return [dict(row) for row in cursor.execute("SELECT * FROM archives ORDER BY id")]


def archive_holding(conn: sqlite3.Connection, op_id: int) -> dict[str, Any] | None:
    """The record of the archive an operation that left the store went to, if any."""
    if conn.execute("SELECT 1 FROM operations WHERE id = ?", (op_id,)).fetchone():
        return None
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    row = cursor.execute(
        "SELECT * FROM archives WHERE ? BETWEEN first_operation_id AND last_operation_id"
        " ORDER BY id LIMIT 1",
        (op_id,),
    ).fetchone()
    return dict(row) if row is not None else None


def file_info(path: Path) -> dict[str, Any] | None:
    """The ``archive_info`` row of an archive file, or None when it is not one."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            row = conn.execute(f"SELECT * FROM {INFO_TABLE}").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return dict(row) if row is not None else None


def open_archive(path: Path, store_path: Path | None = None) -> sqlite3.Connection:
    """An archive file, read-only; with ``store_path`` the store is attached read-only, so the
    tables the archive does not carry (HQ customers) are read from the store."""
    conn = sqlite3.connect(
        f"file:{quote(str(path.resolve()))}?mode=ro",
        uri=True,
        isolation_level=None,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.row_factory = sqlite3.Row
    if store_path is not None:
        conn.execute(
            "ATTACH DATABASE ? AS store", (f"file:{quote(str(store_path.resolve()))}?mode=ro",)
        )
    return conn
