"""Accept a channel whose replication counters went backwards, audited with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from custsync_cli.channels import open_channel
from custsync_cli.channels.base import fingerprint
from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.errors import ChannelError, UsageError
from custsync_cli.jobs.pull import counters_went_back
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.watermarks import Watermark, read_watermark, write_watermark
from custsync_cli.timeutil import utc_now


@dataclass
class WatermarkReset:
    """What ``channel reset-watermark`` found and recorded."""

    channel: str
    watermark: int
    problem: str
    previous_fingerprint: str | None
    fingerprint: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reset_watermark(ctx: JobContext, channel: ChannelConfig, reason: str | None) -> WatermarkReset:
    """Take the outbox row now at the watermark as the one pulled there, so pulling resumes.

    The watermark itself never moves down: counters at or below it are already keys of pulled
    operations, so rows there could never be stored. A channel whose highest counter is below
    the watermark is refused until it numbers its rows above the watermark.
    """
    if reason is None or not reason.strip():
        raise UsageError("reset-watermark needs --reason TEXT saying why (it goes into the audit)")
    reader = open_channel(channel).open_reader()
    try:
        with ctx.store.transaction() as conn:
            mark = read_watermark(conn, channel.name)
            problem = counters_went_back(reader, mark)
            if problem is None:
                raise UsageError(
                    f"channel {channel.name}: its counters continue from the watermark"
                    f" ({mark.counter}); nothing to reset"
                )
            highest = reader.highest_counter()
            if highest < mark.counter:
                raise ChannelError(
                    f"channel {channel.name}: its highest counter ({highest}) is below the"
                    f" watermark ({mark.counter}), so its new rows could never be pulled;"
                    f" have the channel number its rows above {mark.counter} first"
                    ' (runbook: "Channel counters went backwards")'
                )
            rows = reader.rows_at(mark.counter)
            new = Watermark(mark.counter, fingerprint(rows) if rows else None)
            now = utc_now()
            write_watermark(conn, channel.name, new, now)
            result = WatermarkReset(
                channel.name, mark.counter, problem, mark.fingerprint, new.fingerprint
            )
            details = {"reason": reason.strip(), **result.as_dict()}
            append_events(
                conn,
                [
                    AuditEvent(
                        action="watermark_reset",
                        actor=ctx.actor,
                        at=now,
                        channel=channel.name,
                        details=details,
                    )
                ],
            )
    finally:
        reader.close()
    return result
