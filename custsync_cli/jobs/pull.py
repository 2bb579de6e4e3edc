"""The pull job (P-job): copy new outbox rows of every channel into the store as pending."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from custsync_cli import faults
from custsync_cli.channels import open_channel
from custsync_cli.channels.base import BadText, OutboxReader, OutboxRow, fingerprint
from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.domain.fields import ValueNotScalar, decode_channel_fields, to_text
from custsync_cli.domain.models import FieldError, OperationType, Status, summarize_errors
from custsync_cli.errors import ChannelError, CountersWentBack
from custsync_cli.store.audit import EncodedEvent, append_encoded, canonical_details
from custsync_cli.store.field_values import encode
from custsync_cli.store.operations import insert_pulled, next_operation_id, stored_counters
from custsync_cli.store.watermarks import Watermark, read_watermark, write_watermark
from custsync_cli.timeutil import utc_now

KNOWN_OPERATIONS = frozenset(kind.value for kind in OperationType)


@dataclass
class PullResult:
    pulled: int = 0
    malformed: int = 0
    skipped_channels: dict[str, str] = field(default_factory=dict)
    # Channels whose counters went backwards: skipped, and the run exits 1.
    halted_channels: list[str] = field(default_factory=list)
    unreadable_rows: dict[str, str] = field(default_factory=dict)


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
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # A time near year 1 or 9999 can leave datetime's range once moved to UTC.
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):
        return None


# An escaped UTF-16 surrogate: a lone one decodes to a str that cannot be stored as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unreadable(column: str, value: Any) -> FieldError | None:
    """Why a TEXT column of the outbox cannot be read as text, if it cannot."""
    if isinstance(value, BadText):
        return FieldError(column, "malformed_row", f"{column} is not valid UTF-8 text")
    if isinstance(value, bytes):
        return FieldError(column, "malformed_row", f"{column} is a blob, not text")
    return None


def _text_column(row: OutboxRow, column: str, errors: list[FieldError]) -> str | None:
    value = getattr(row, column)
    if value.__class__ is str:
        return value
    problem = _unreadable(column, value)
    if problem is not None:
        errors.append(problem)
        return None
    return value if isinstance(value, str) else None


def _decode_fields(text: str, errors: list[FieldError]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    try:
        raw = decode_channel_fields(text)
    except RecursionError:
        errors.append(
            FieldError("fields", "malformed_row", "the channel's fields nest too deep to read")
        )
        return values
    except ValueError:
        errors.append(
            FieldError("fields", "malformed_row", "the channel's fields are not a JSON object")
        )
        return values
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and not _encodable(raw):
        errors.append(
            FieldError(
                "fields", "malformed_row", "the channel's fields hold an unpaired UTF-16 surrogate"
            )
        )
        return values
    for name, value in raw.items():
        try:
            values[name] = to_text(value)
        except ValueNotScalar as exc:
            errors.append(
                FieldError(name, "invalid_value", f"{name} holds a {exc} instead of a single value")
            )
    return values


def _encodable(raw: dict[str, Any]) -> bool:
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _has_error(errors: list[FieldError], column: str) -> bool:
    return any(e.field == column for e in errors)


def parse_row(row: OutboxRow, pulled_at: str) -> ParsedRow:
    errors: list[FieldError] = []
    account = _text_column(row, "async_account", errors) or ""
    if not account.strip() and not _has_error(errors, "async_account"):
        errors.append(
            FieldError(
                "async_account", "malformed_row", "the channel sent no async customer account"
            )
        )
    operation = _text_column(row, "operation", errors) or ""
    if operation not in KNOWN_OPERATIONS and not _has_error(errors, "operation"):
        errors.append(
            FieldError(
                "operation",
                "invalid_operation",
                f"'{operation}' is not an operation type custsync knows",
            )
        )
    timestamp = normalize_timestamp(_text_column(row, "created_at", errors))
    if timestamp is None and not _has_error(errors, "created_at"):
        errors.append(
            FieldError("created_at", "malformed_row", "the channel sent no valid ISO 8601 time")
        )
    fields = _text_column(row, "fields", errors)
    values = _decode_fields(fields, errors) if fields is not None else {}
    if fields is None and not _has_error(errors, "fields"):
        errors.append(FieldError("fields", "malformed_row", "the channel sent no fields"))
    created_by = _text_column(row, "created_by", errors)
    return ParsedRow(
        counter=row.replication_counter,
        async_account=account,
        operation=operation,
        timestamp=timestamp or pulled_at[:19] + "Z",
        created_by=created_by,
        values=values,
        errors=errors,
    )


def shared_counter(counter: int, rows: int, pulled_at: str) -> ParsedRow:
    """One failed operation for ``rows`` outbox rows that share ``counter``: none is pulled."""
    return ParsedRow(
        counter=counter,
        async_account="",
        operation="",
        timestamp=pulled_at[:19] + "Z",
        created_by=None,
        values={},
        errors=[
            FieldError(
                "replication_counter",
                "malformed_row",
                f"{rows} outbox rows share replication counter {counter}; none of them can be"
                " pulled as an operation",
            )
        ],
    )


def parse_batch(rows: list[OutboxRow], pulled_at: str) -> list[ParsedRow]:
    """The batch in counter order; rows sharing a counter become one failed operation."""
    parsed: list[ParsedRow] = []
    index = 0
    while index < len(rows):
        counter = rows[index].replication_counter
        end = index + 1
        while end < len(rows) and rows[end].replication_counter == counter:
            end += 1
        if end - index == 1:
            parsed.append(parse_row(rows[index], pulled_at))
        else:
            parsed.append(shared_counter(counter, end - index, pulled_at))
        index = end
    return parsed


def counters_went_back(reader: OutboxReader, mark: Watermark) -> str | None:
    """Why the outbox no longer continues from ``mark`` (e.g. restored from a backup), or None."""
    if mark.counter <= 0:
        return None
    highest = reader.highest_counter()
    if highest < mark.counter:
        return f"its highest counter ({highest}) is below the watermark ({mark.counter})"
    if mark.fingerprint is None:
        return None
    if fingerprint(reader.rows_at(mark.counter)) != mark.fingerprint:
        return f"the outbox row at counter {mark.counter} is not the row pulled there"
    return None


def halt_message(channel: str, why: str) -> str:
    return (
        f"channel {channel}: replication counters went backwards: {why}; nothing is pulled"
        f" from it until an operator runs `custsync channel reset-watermark {channel}"
        ' --reason ...` (runbook: "Channel counters went backwards")'
    )


def pull(ctx: JobContext, channels: list[ChannelConfig]) -> PullResult:
    """Pull every channel; a bad channel is skipped with its reason and the others go on."""
    result = PullResult()
    for channel in channels:
        ctx.stop.check()
        try:
            reader = open_channel(channel).open_reader()
        except ChannelError as exc:
            result.skipped_channels[channel.name] = exc.message
            continue
        try:
            _pull_channel(ctx, channel, reader, result)
        except CountersWentBack as exc:
            result.skipped_channels[channel.name] = exc.message
            result.halted_channels.append(channel.name)
        except ChannelError as exc:
            result.skipped_channels[channel.name] = exc.message
        finally:
            reader.close()
    return result


def _pull_channel(
    ctx: JobContext, channel: ChannelConfig, reader: OutboxReader, result: PullResult
) -> None:
    conn = ctx.store.conn
    mark = read_watermark(conn, channel.name)
    why = counters_went_back(reader, mark)
    if why is not None:
        raise CountersWentBack(halt_message(channel.name, why))
    unusable = reader.unusable_counters()
    if unusable.rows:
        result.unreadable_rows[channel.name] = f"channel {channel.name}: {unusable.describe()}"
    watermark = mark.counter
    while True:
        ctx.stop.check()
        rows = reader.read_after(watermark, ctx.batch_size)
        if not rows:
            return
        pulled_at = utc_now()
        parsed = parse_batch(rows, pulled_at)
        watermark = parsed[-1].counter
        at_mark = fingerprint([r for r in rows if r.replication_counter == watermark])
        with ctx.store.transaction():
            stored, malformed = _store_batch(ctx, channel.name, parsed, pulled_at)
            write_watermark(conn, channel.name, Watermark(watermark, at_mark), pulled_at)
            ctx.record_batch({"pulled": stored, "failed": malformed})
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
    already = stored_counters(conn, channel, low, high)
    next_id = next_operation_id(conn)
    operations: list[tuple[Any, ...]] = []
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
                encode(row.values),
            )
        )
        if row.errors:
            malformed += 1
            errors.extend([(op_id, e.field, e.code, e.message) for e in row.errors])
        events.append(
            (pulled_at, actor, "pulled", op_id, None, channel, pulled_details(row, status))
        )
    insert_pulled(conn, operations, errors)
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
