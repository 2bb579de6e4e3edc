"""The pull job (P-job): copy new outbox rows of every channel into the store as pending."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from custsync_cli import faults
from custsync_cli.config import ChannelConfig
from custsync_cli.domain.fields import ValueNotScalar, decode_channel_fields, to_text
from custsync_cli.domain.models import FieldError, OperationType, Status, summarize_errors
from custsync_cli.errors import ChannelError
from custsync_cli.jobs.channel import ChannelReader, OutboxRow
from custsync_cli.jobs.context import JobContext
from custsync_cli.store.audit import EncodedEvent, append_encoded, canonical_details
from custsync_cli.store.database import utc_now

KNOWN_OPERATIONS = frozenset(kind.value for kind in OperationType)


@dataclass
class PullResult:
    pulled: int = 0
    malformed: int = 0
    skipped_channels: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedRow:
    """An outbox row turned into what the store keeps, with any problems it has."""

    counter: int
    async_account: str
    operation: str
    timestamp: str
    created_by: str | None
    values: dict[str, str | None]
    errors: list[FieldError]

    @property
    def address_id(self) -> str | None:
        return self.values.get("address_id") if self.operation in ADDRESS_OPERATIONS else None


ADDRESS_OPERATIONS = frozenset({"create_address", "update_address"})


# Already UTC (``Z``, a zero offset or none) with the fields in range, so the normal form is the
# first 19 characters; ``fromisoformat`` still decides validity (month lengths, leap years).
# Years before 1000 take the general path: ``strftime("%Y")`` does not pad them.
_UTC_SHAPE = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-]00:00)?"
)


def normalize_timestamp(value: Any) -> str | None:
    """ISO 8601 (any offset; naive means UTC) as ``YYYY-MM-DDTHH:MM:SSZ``, or None if invalid."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _UTC_SHAPE.fullmatch(text) is None:
        return _normalize_any(text)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return text[:19] + "Z"


def _normalize_any(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_row(row: OutboxRow, pulled_at: str) -> ParsedRow:
    errors: list[FieldError] = []
    account = row.async_account if isinstance(row.async_account, str) else ""
    if not account.strip():
        errors.append(
            FieldError(
                "async_account", "malformed_row", "the channel sent no async customer account"
            )
        )
    operation = row.operation if isinstance(row.operation, str) else str(row.operation)
    if operation not in KNOWN_OPERATIONS:
        errors.append(
            FieldError(
                "operation",
                "invalid_operation",
                f"'{operation}' is not an operation type custsync knows",
            )
        )
    timestamp = normalize_timestamp(row.created_at)
    if timestamp is None:
        errors.append(
            FieldError("created_at", "malformed_row", "the channel sent no valid ISO 8601 time")
        )
    values: dict[str, str | None] = {}
    try:
        raw = decode_channel_fields(row.fields if isinstance(row.fields, str) else "")
        for name, value in raw.items():
            try:
                values[str(name)] = to_text(value)
            except ValueNotScalar as exc:
                errors.append(
                    FieldError(
                        str(name),
                        "invalid_value",
                        f"{name} holds a {exc} instead of a single value",
                    )
                )
    except ValueError:
        errors.append(
            FieldError("fields", "malformed_row", "the channel's fields are not a JSON object")
        )
    created_by = row.created_by if isinstance(row.created_by, str) else None
    return ParsedRow(
        counter=int(row.replication_counter),
        async_account=account,
        operation=operation,
        timestamp=timestamp or pulled_at[:19] + "Z",
        created_by=created_by,
        values=values,
        errors=errors,
    )


def pull(ctx: JobContext, channels: list[ChannelConfig]) -> PullResult:
    """Pull every channel; a bad channel is skipped with its reason and the others go on."""
    result = PullResult()
    for channel in channels:
        ctx.stop.check()
        try:
            reader = ChannelReader(channel)
        except ChannelError as exc:
            result.skipped_channels[channel.name] = exc.message
            continue
        try:
            _pull_channel(ctx, channel, reader, result)
        except ChannelError as exc:
            result.skipped_channels[channel.name] = exc.message
        finally:
            reader.close()
    return result


def _pull_channel(
    ctx: JobContext, channel: ChannelConfig, reader: ChannelReader, result: PullResult
) -> None:
    conn = ctx.store.conn
    row = conn.execute(
        "SELECT replication_counter FROM channel_watermarks WHERE channel = ?", (channel.name,)
    ).fetchone()
    watermark = int(row[0]) if row else 0
    while True:
        ctx.stop.check()
        rows = reader.read_after(watermark, ctx.batch_size)
        if not rows:
            return
        pulled_at = utc_now()
        parsed = [parse_row(r, pulled_at) for r in rows]
        with ctx.store.transaction():
            stored, malformed = _store_batch(ctx, channel.name, parsed, pulled_at)
            watermark = parsed[-1].counter
            conn.execute(
                "INSERT INTO channel_watermarks (channel, replication_counter, updated_at)"
                " VALUES (?, ?, ?) ON CONFLICT (channel) DO UPDATE SET"
                " replication_counter = excluded.replication_counter,"
                " updated_at = excluded.updated_at",
                (channel.name, watermark, pulled_at),
            )
            faults.point("pull.before_commit")
        faults.point("pull.after_commit")
        result.pulled += stored
        result.malformed += malformed
        ctx.progress("pull", channel.name, stored)


def _store_batch(
    ctx: JobContext, channel: str, parsed: list[ParsedRow], pulled_at: str
) -> tuple[int, int]:
    conn = ctx.store.conn
    low, high = parsed[0].counter, parsed[-1].counter
    already = {
        r[0]
        for r in conn.execute(
            "SELECT replication_counter FROM operations WHERE channel = ?"
            " AND replication_counter BETWEEN ? AND ?",
            (channel, low, high),
        )
    }
    next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM operations").fetchone()[0]) + 1
    operations: list[tuple[Any, ...]] = []
    values: list[tuple[Any, ...]] = []
    errors: list[tuple[Any, ...]] = []
    events: list[EncodedEvent] = []
    actor = ctx.actor
    malformed = 0
    for row in parsed:
        if row.counter in already:
            continue
        op_id = next_id
        next_id += 1
        status = (Status.FAILED if row.errors else Status.PENDING).value
        operations.append(
            (
                op_id,
                channel,
                row.counter,
                row.operation,
                row.async_account,
                row.address_id,
                status,
                row.timestamp,
                row.created_by,
                pulled_at,
                pulled_at,
                summarize_errors(row.errors),
            )
        )
        values.extend([(op_id, name, value, value) for name, value in row.values.items()])
        if row.errors:
            malformed += 1
            errors.extend([(op_id, e.field, e.code, e.message) for e in row.errors])
        events.append(
            (pulled_at, actor, "pulled", op_id, None, channel, pulled_details(row, status))
        )
    conn.executemany(
        "INSERT INTO operations (id, channel, replication_counter, operation, async_account,"
        " address_id, status, timestamp, created_by, pulled_at, updated_at, last_error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        operations,
    )
    conn.executemany(
        "INSERT INTO operation_fields (operation_id, name, channel_value, new_value)"
        " VALUES (?, ?, ?, ?)",
        values,
    )
    conn.executemany(
        "INSERT INTO operation_errors (operation_id, field, code, message) VALUES (?, ?, ?, ?)",
        errors,
    )
    append_encoded(conn, events)
    return len(operations), malformed


def pulled_details(row: ParsedRow, status: str) -> str:
    """``canonical_details`` of a pulled event."""
    details: dict[str, Any] = {
        "replication_counter": row.counter,
        "operation": row.operation,
        "fields": sorted(row.values),
        "status": status,
    }
    if row.errors:
        details["errors"] = [e.as_dict() for e in row.errors]
    return canonical_details(details)
