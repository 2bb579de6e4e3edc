"""The pull and distribute fast paths give exactly what the general code gives."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from custsync_cli.channels.base import OutboxRow
from custsync_cli.channels.sqlite_outbox import ChannelReader, create_channel_database
from custsync_cli.config import ChannelConfig
from custsync_cli.domain.fields import ValueNotScalar, decode_channel_fields, to_text
from custsync_cli.domain.models import FieldError
from custsync_cli.jobs.distribute import distributed_details
from custsync_cli.jobs.pull import ParsedRow, normalize_timestamp, parse_row, pulled_details
from custsync_cli.store.audit import canonical_details


def reference_timestamp(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference_to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueNotScalar(type(value).__name__)


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=10**count - 1).map(lambda n: f"{n:0{count}d}")


# Shapes near the fast path's edges: out-of-range fields, short years, every offset form.
timestamp_like = st.builds(
    lambda year, month, day, sep, hour, minute, second, fraction, zone, pad: (
        f"{pad}{year}-{month}-{day}{sep}{hour}:{minute}:{second}{fraction}{zone}{pad}"
    ),
    year=_digits(4),
    month=st.sampled_from(["01", "02", "12", "13", "00", "1"]),
    day=st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
    sep=st.sampled_from(["T", " ", "t", "_"]),
    hour=st.sampled_from(["00", "09", "19", "23", "24", "25", "1"]),
    minute=st.sampled_from(["00", "59", "60"]),
    second=st.sampled_from(["00", "59", "60", "61"]),
    fraction=st.sampled_from(["", ".", ".1", ".12", ".123", ".123456", ".1234567", ",5"]),
    zone=st.sampled_from(
        ["", "Z", "z", "+00:00", "-00:00", "+0000", "+00", "+01:00", "-05:30", "+00:00:00", "UTC"]
    ),
    pad=st.sampled_from(["", " ", "\t", "\n"]),
)


@settings(max_examples=2000)
@given(timestamp_like | st.text(max_size=40) | st.datetimes().map(datetime.isoformat))
@example("2026-01-01T00:00:01.271Z")
@example("0999-01-01T00:00:00Z")
@example("2024-02-29T23:59:59+00:00")
@example("2023-02-29T23:59:59Z")
@example("2026-01-01T24:00:00Z")
@example("\uff12\uff10\uff12\uff16-01-01T00:00:00Z")  # full-width digits
def test_normalize_timestamp_matches_the_general_conversion(value: str) -> None:
    assert normalize_timestamp(value) == reference_timestamp(value)


@given(st.datetimes(timezones=st.timezones() | st.none()))
def test_normalize_timestamp_of_aware_and_naive_datetimes(moment: datetime) -> None:
    for text in (moment.isoformat(), moment.isoformat(timespec="milliseconds")):
        assert normalize_timestamp(text) == reference_timestamp(text)


def test_normalize_timestamp_of_non_text() -> None:
    assert normalize_timestamp(None) is None
    assert normalize_timestamp(20260101) is None


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
)


@given(json_values)
def test_to_text_matches_the_general_conversion(value: Any) -> None:
    try:
        expected: Any = reference_to_text(value)
    except ValueNotScalar as exc:
        expected = ("not scalar", str(exc))
    try:
        got: Any = to_text(value)
    except ValueNotScalar as exc:
        got = ("not scalar", str(exc))
    assert got == expected


def _decode(text: Any) -> Any:
    try:
        return ("ok", decode_channel_fields(text))
    except ValueError:
        return ("error",)


def _reference_decode(text: Any) -> Any:
    try:
        data = json.loads(text)
    except ValueError:
        return ("error",)
    return ("ok", data) if isinstance(data, dict) else ("error",)


json_texts = st.builds(
    lambda value, before, after: before + json.dumps(value) + after,
    json_values,
    st.sampled_from(["", " ", "\n", "\ufeff"]),
    st.sampled_from(["", " ", "\n", "x", "}", " 1"]),
)


@settings(max_examples=500)
@given(json_texts | st.text(max_size=30))
@example('{"a": NaN, "b": 1e400, "c": -Infinity}')
@example('{"dup": 1, "dup": "2"}')
@example("")
@example("[1, 2]")
def test_decode_channel_fields_matches_json_loads(text: str) -> None:
    assert repr(_decode(text)) == repr(_reference_decode(text))


field_names = st.text(max_size=12)
errors = st.lists(
    st.builds(FieldError, st.text(max_size=8), st.text(max_size=8), st.text(max_size=20)),
    max_size=3,
)


@settings(max_examples=500)
@given(
    counter=st.integers(min_value=0, max_value=2**63 - 1),
    operation=st.text(max_size=20),
    names=st.lists(field_names, max_size=8, unique=True),
    status=st.sampled_from(["pending", "failed"]),
    row_errors=errors,
)
def test_pulled_details_is_the_canonical_json_of_the_details(
    counter: int, operation: str, names: list[str], status: str, row_errors: list[FieldError]
) -> None:
    row = ParsedRow(
        counter=counter,
        async_account="a",
        operation=operation,
        timestamp="2026-01-01T00:00:00Z",
        created_by=None,
        values=dict.fromkeys(names, "v"),
        errors=row_errors,
    )
    details: dict[str, Any] = {
        "replication_counter": counter,
        "operation": operation,
        "fields": sorted(names),
        "status": status,
    }
    if row_errors:
        details["errors"] = [e.as_dict() for e in row_errors]
    assert pulled_details(row, status) == canonical_details(details)


@given(st.none() | st.text() | st.integers())
def test_distributed_details_is_the_canonical_json_of_the_details(account: Any) -> None:
    assert distributed_details(account) == canonical_details({"customer_account": account})


def test_parse_row_keeps_text_values_and_reports_nested_ones() -> None:
    row = OutboxRow(
        7,
        "acc",
        "create_customer",
        '{"email": "a@b.se", "n": 5, "ok": true, "gone": null, "list": [1]}',
        "2026-03-04T05:06:07.890+00:00",
        None,
    )
    parsed = parse_row(row, "2026-11-27T00:00:00.000000Z")
    assert parsed.values == {"email": "a@b.se", "n": "5", "ok": "true", "gone": None}
    assert parsed.timestamp == "2026-03-04T05:06:07Z"
    assert [(e.field, e.code) for e in parsed.errors] == [("list", "invalid_value")]


def test_outbox_rows_read_from_a_channel(tmp_path: Path) -> None:
    path = tmp_path / "web.db"
    create_channel_database(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO async_customer_operation (async_account, operation, fields, created_at)"
            " VALUES ('a', 'create_customer', '{}', '2026-01-01T00:00:00Z')"
        )
    conn.close()
    reader = ChannelReader(ChannelConfig(name="web", database=path))
    try:
        rows = reader.read_after(0, 10)
    finally:
        reader.close()
    assert rows == [OutboxRow(1, "a", "create_customer", "{}", "2026-01-01T00:00:00Z", None)]
    assert rows[0].created_by is None
    with pytest.raises(AttributeError):
        rows[0].operation = "x"  # type: ignore[misc]
