"""Operator repairs of operations: edit their values, resync them now, or discard them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from custsync_cli.context import JobContext
from custsync_cli.domain.models import EDITABLE_STATUSES, Operation
from custsync_cli.errors import CustsyncError, NotFoundError
from custsync_cli.store.database import rehearsal
from custsync_cli.store.operations import load_operations


class NotRepairable(CustsyncError):
    """The operation is synced or discarded; only failed, blocked or pending ones can change."""


def load_editable(conn: sqlite3.Connection, ids: list[int], verb: str) -> list[Operation]:
    """Load ``ids`` in id order; raise if one is missing or already final (synced/discarded)."""
    storable = sorted({op_id for op_id in ids if 0 < op_id < 2**63})
    found = {op.id: op for op in load_operations(conn, storable)}
    missing = [op_id for op_id in ids if op_id not in found]
    if missing:
        listed = ", ".join(str(op_id) for op_id in missing)
        raise NotFoundError(f"no operation {listed} in the store")
    for op in found.values():
        if op.status not in EDITABLE_STATUSES:
            raise NotRepairable(
                f"operation {op.id} is {op.status}; only failed, blocked or pending"
                f" operations can be {verb}"
            )
    return [found[op_id] for op_id in sorted(found)]


@contextmanager
def rehearsing(ctx: JobContext) -> Iterator[JobContext]:
    """``ctx`` on a store whose writes are all rolled back at the end: for dry runs."""
    with rehearsal(ctx.store) as scratch:
        yield JobContext(
            config=ctx.config,
            store=scratch,
            actor=ctx.actor,
            stop=ctx.stop,
            _validator=ctx.validator,
        )
