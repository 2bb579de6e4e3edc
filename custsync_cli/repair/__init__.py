"""Operator repairs of operations: edit their values, resync them now, or discard them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from custsync_cli.context import JobContext
from custsync_cli.domain.models import EDITABLE_STATUSES, Operation
from custsync_cli.errors import CustsyncError, NotFoundError, UsageError
from custsync_cli.store.database import rehearsal
from custsync_cli.store.filters import OperationFilter
from custsync_cli.store.operations import load_operations
from custsync_cli.store.queries import matching_statuses


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


def editable_matches(ctx: JobContext, flt: OperationFilter) -> tuple[list[int], int]:
    """Ids of the editable operations ``flt`` matches (oldest first), and how many final ones."""
    rows = matching_statuses(ctx.store.conn, flt)
    editable = [op_id for op_id, status in rows if status in EDITABLE_STATUSES]
    return editable, len(rows) - len(editable)


def chosen_operations(
    ctx: JobContext, ops: list[int] | None, flt: OperationFilter
) -> tuple[list[int], int]:
    """What resync or discard acts on: the ids given, or the failed (by default) matches of
    ``flt``, with how many matches were final; never both ids and filters, never neither."""
    if ops and not flt.is_empty():
        raise UsageError("give operation ids or filters, not both")
    if not ops and flt.is_empty():
        raise UsageError("give operation ids, or filters such as --status failed")
    if ops:
        return sorted(set(ops)), 0
    flt.default("status", ["failed"])
    return editable_matches(ctx, flt)


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
