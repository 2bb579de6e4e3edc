"""Aggregate views of the store: operation counts per status and channel."""

from __future__ import annotations

import sqlite3

from custsync_cli.domain.models import Status

STATUS_ORDER = tuple(status.value for status in Status)


def counts_by_channel(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """{channel: {status: count}} with every status present (zero when none)."""
    table: dict[str, dict[str, int]] = {}
    for channel, status, count in conn.execute(
        "SELECT channel, status, count(*) FROM operations GROUP BY channel, status"
    ):
        table.setdefault(channel, dict.fromkeys(STATUS_ORDER, 0))[status] = count
    return dict(sorted(table.items()))


def customer_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM customers").fetchone()[0])
