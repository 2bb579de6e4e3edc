"""What every channel kind gives the jobs: outbox rows after a watermark, and customer writes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

# (async_account, customer_account, record JSON, synced_at): what distribute writes back.
CustomerRecord = tuple[str, str, str, str]


class OutboxRow(NamedTuple):
    replication_counter: int
    async_account: Any
    operation: Any
    fields: Any
    created_at: Any
    created_by: Any


class BadText:
    """A TEXT value that is not valid UTF-8; it keeps the bytes only for the row's fingerprint."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


def _cell_bytes(value: Any) -> bytes:
    if isinstance(value, BadText):
        return b"t" + value.raw
    if isinstance(value, str):
        return b"t" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes):
        return b"b" + value
    return b"n" + repr(value).encode("ascii")


def fingerprint(rows: list[OutboxRow]) -> str:
    """A digest of the raw outbox row(s) at one counter, to tell whether it still holds them."""
    cells = sorted(
        b"\x1e".join(len(c).to_bytes(8, "big") + c for c in map(_cell_bytes, row)) for row in rows
    )
    digest = hashlib.sha256()
    for cell in cells:
        digest.update(len(cell).to_bytes(8, "big") + cell)
    return digest.hexdigest()


class UnusableCounters(NamedTuple):
    """Rows no operation can be keyed by: how many, and the positions (rowids) of the first few."""

    rows: int
    positions: list[tuple[int, str]]

    def describe(self) -> str:
        where = ", ".join(f"rowid {rowid} ({kind})" for rowid, kind in self.positions)
        more = "" if len(self.positions) >= self.rows or not where else ", ..."
        at = f" at {where}{more}" if where else ""
        return (
            f"{self.rows} outbox row(s) have no usable replication counter (a positive"
            f" integer){at}; they cannot be pulled until the channel numbers them"
        )


class OutboxReader(Protocol):
    """An open, read-only view of one channel's operations, in replication-counter order."""

    def read_after(self, counter: int, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` rows above ``counter`` (more if the last counter is shared)."""
        ...

    def rows_at(self, counter: int) -> list[OutboxRow]:
        """The row(s) the channel holds at ``counter`` now."""
        ...

    def highest_counter(self) -> int:
        """The highest usable counter, 0 if there is none."""
        ...

    def unusable_counters(self) -> UnusableCounters: ...

    def close(self) -> None: ...


class ChannelAdapter(Protocol):
    """One configured channel, whatever its kind. Errors are ``ChannelError`` naming it."""

    name: str

    def location(self) -> str:
        """Where the channel lives, for messages and listings."""
        ...

    def open_reader(self) -> OutboxReader:
        """Open the channel for reading; raises ChannelError if it cannot be read at all."""
        ...

    def write_customers(self, records: Sequence[CustomerRecord]) -> None:
        """Upsert the HQ account and record of each async customer, all or nothing."""
        ...
