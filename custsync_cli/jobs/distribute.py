"""The distribute job (1010): write HQ accounts and records back to the channels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from custsync_cli import faults
from custsync_cli.channels import open_channel
from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.errors import ChannelError
from custsync_cli.store.audit import EncodedEvent, append_encoded, canonical_details, canonical_json
from custsync_cli.store.hq import customer_records
from custsync_cli.store.operations import mark_distributed, to_distribute
from custsync_cli.timeutil import utc_now


@dataclass
class DistributeResult:
    distributed: int = 0
    customers: int = 0
    skipped_channels: dict[str, str] = field(default_factory=dict)


def distribute(
    ctx: JobContext, channels: list[ChannelConfig], only: set[int] | None = None
) -> DistributeResult:
    """Write every synced, undistributed operation's customer to its channel, batch by batch."""
    result = DistributeResult()
    by_name = {channel.name: channel for channel in channels}
    excluded: set[str] = set()
    conn = ctx.store.conn
    after = 0
    while True:
        ctx.stop.check()
        rows = to_distribute(conn, after, ctx.batch_size)
        if not rows:
            break
        after = rows[-1][0]
        wanted = [
            row
            for row in rows
            if row[1] in by_name and row[1] not in excluded and (only is None or row[0] in only)
        ]
        per_channel: dict[str, dict[str, str]] = defaultdict(dict)
        for _, channel, async_account, account in wanted:
            per_channel[channel][async_account] = account
        now = utc_now()
        written: set[str] = set()
        hq_records = customer_records(conn, [row[3] for row in wanted])
        for channel, accounts in per_channel.items():
            records = [
                (async_account, account, _record_json(hq_records.get(account, {})), now)
                for async_account, account in accounts.items()
            ]
            try:
                open_channel(by_name[channel]).write_customers(records)
            except ChannelError as exc:
                excluded.add(channel)
                result.skipped_channels[channel] = exc.message
                continue
            written.add(channel)
            result.customers += len(records)
        faults.point("distribute.between_writes")
        done = [row for row in wanted if row[1] in written]
        if not done:
            continue
        with ctx.store.transaction():
            mark_distributed(conn, [row[0] for row in done], now)
            actor = ctx.actor
            events: list[EncodedEvent] = [
                (now, actor, "distributed", row[0], row[3], row[1], distributed_details(row[3]))
                for row in done
            ]
            append_encoded(conn, events)
            ctx.record_batch({"distributed": len(done)})
            faults.point("distribute.before_commit")
        faults.point("distribute.after_commit")
        result.distributed += len(done)
        ctx.progress("distribute", None, len(done))
    return result


def _record_json(record: dict[str, Any]) -> str:
    return canonical_json(record)


def distributed_details(account: Any) -> str:
    """``canonical_details`` of a distributed event."""
    return canonical_details({"customer_account": account})
