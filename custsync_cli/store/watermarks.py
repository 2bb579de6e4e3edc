"""Channel watermarks: the highest pulled counter and a fingerprint of the outbox row there."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class Watermark(NamedTuple):
    counter: int
    fingerprint: str | None


def read_watermark(conn: sqlite3.Connection, channel: str) -> Watermark:
    row = conn.execute(
        "SELECT replication_counter, fingerprint FROM channel_watermarks WHERE channel = ?",
        (channel,),
    ).fetchone()
    return Watermark(int(row[0]), row[1]) if row else Watermark(0, None)


def write_watermark(
    conn: sqlite3.Connection, channel: str, mark: Watermark, updated_at: str
) -> None:
    conn.execute(
        "INSERT INTO channel_watermarks (channel, replication_counter, fingerprint, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (channel) DO UPDATE SET"
        " replication_counter = excluded.replication_counter,"
        " fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
        (channel, mark.counter, mark.fingerprint, updated_at),
    )


def highest_stored_counter(conn: sqlite3.Connection, channel: str) -> int:
    row = conn.execute(
        "SELECT max(replication_counter) FROM operations WHERE channel = ?", (channel,)
    ).fetchone()
    return int(row[0] or 0)
