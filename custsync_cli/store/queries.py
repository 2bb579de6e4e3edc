"""Operations that match a filter (declared in ``store.filters``), answered from the indexes."""

from __future__ import annotations

import sqlite3

from custsync_cli.store.filters import OperationFilter, where_clause


def matching_ids(
    conn: sqlite3.Connection, flt: OperationFilter, *, limit: int | None = None, offset: int = 0
) -> list[int]:
    """Ids of matching operations, newest first (by channel time, then id)."""
    clause, params = where_clause(flt)
    sql = f"SELECT o.id FROM operations AS o WHERE {clause} ORDER BY o.timestamp DESC, o.id DESC"
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, -1 if limit is None else limit, offset]
    return [int(row[0]) for row in conn.execute(sql, params)]


def count_matching(conn: sqlite3.Connection, flt: OperationFilter) -> int:
    clause, params = where_clause(flt)
    return int(
        conn.execute(f"SELECT count(*) FROM operations AS o WHERE {clause}", params).fetchone()[0]
    )


def matching_statuses(conn: sqlite3.Connection, flt: OperationFilter) -> list[tuple[int, str]]:
    """(id, status) of every matching operation, oldest first: what a bulk repair works on."""
    clause, params = where_clause(flt)
    return [
        (int(row[0]), str(row[1]))
        for row in conn.execute(
            f"SELECT o.id, o.status FROM operations AS o WHERE {clause} ORDER BY o.id", params
        )
    ]
