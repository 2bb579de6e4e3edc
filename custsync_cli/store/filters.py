"""The list filters of DESIGN §4, declared once: options, checks and SQL all derive from FILTERS.

``cli.filters`` turns each declaration into a Typer option, ``cli.fast`` into its parser's
spec, and ``build`` checks the typed values into an ``OperationFilter`` that ``where_clause``
turns into SQL. A new filter is one more entry in ``FILTERS``.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from custsync_cli.domain.fields import Catalogue
from custsync_cli.errors import UsageError

Condition = tuple[str, list[Any]]
PANEL = "Filters"


class Known(StrEnum):
    """A closed set a filter's values must come from: checked on input, offered on completion."""

    status = "status"
    operation = "operation"
    channel = "channel"
    error_code = "error code"


@dataclass(frozen=True)
class FieldMatch:
    """``--where FIELD=VALUE`` (exact) or ``FIELD~TEXT`` (contains) on a field's new value."""

    name: str
    value: str
    contains: bool = False

    @classmethod
    def parse(cls, text: str, catalogue: Catalogue) -> FieldMatch:
        equals, tilde = text.find("="), text.find("~")
        cut = min(i for i in (equals, tilde, len(text)) if i >= 0)
        if cut in (0, len(text)):
            raise UsageError(f"--where '{text}' must look like FIELD=VALUE or FIELD~TEXT")
        name, value = text[:cut].strip(), text[cut + 1 :]
        if not catalogue.is_known(name):
            valid = ", ".join(catalogue.all_fields)
            raise UsageError(f"--where: unknown field '{name}' (valid fields: {valid})")
        return cls(name, value, contains=text[cut] == "~")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def any_of(column: str) -> Callable[[Sequence[Any]], list[Condition]]:
    """One condition: the column is any of the values."""

    def sql(values: Sequence[Any]) -> list[Condition]:
        return [(f"{column} IN ({', '.join('?' * len(values))})", list(values))]

    return sql


def each(
    condition: str, bind: Callable[[Any], list[Any]] = lambda v: [v]
) -> Callable[[Sequence[Any]], list[Condition]]:
    """One condition per value, all of which must hold."""

    def sql(values: Sequence[Any]) -> list[Condition]:
        return [(condition, bind(value)) for value in values]

    return sql


def _field_matches(values: Sequence[Any]) -> list[Condition]:
    conditions: list[Condition] = []
    for match in values:
        if match.contains:
            conditions.append(
                (
                    "o.id IN (SELECT operation_id FROM operation_fields WHERE name = ?"
                    " AND dropped = 0 AND new_value LIKE ? ESCAPE '\\')",
                    [match.name, _like(match.value)],
                )
            )
        else:
            conditions.append(
                (
                    "o.id IN (SELECT operation_id FROM operation_fields WHERE name = ?"
                    " AND new_value = ? AND dropped = 0)",
                    [match.name, match.value],
                )
            )
    return conditions


def _text(text: str, catalogue: Catalogue) -> Any:
    return text


def _moment(text: str, catalogue: Catalogue) -> Any:
    from custsync_cli.timeutil import parse_moment

    return parse_moment(text)


@dataclass(frozen=True)
class Filter:
    """One filter: its option as typed, how its text is read and checked, and its SQL."""

    name: str
    option: str
    metavar: str
    help: str
    sql: Callable[[Sequence[Any]], list[Condition]]
    repeatable: bool = False
    known: Known | None = None
    read: Callable[[str, Catalogue], Any] = _text
    completes_fields: bool = False


FILTERS: tuple[Filter, ...] = (
    Filter(
        "status",
        "--status",
        "STATUS",
        "pending, blocked, failed, synced or discarded (repeatable).",
        any_of("o.status"),
        repeatable=True,
        known=Known.status,
    ),
    Filter(
        "channel",
        "--channel",
        "NAME",
        "Channel name (repeatable).",
        any_of("o.channel"),
        repeatable=True,
        known=Known.channel,
    ),
    Filter(
        "operation",
        "--operation",
        "TYPE",
        "Operation type, e.g. create_customer (repeatable).",
        any_of("o.operation"),
        repeatable=True,
        known=Known.operation,
    ),
    Filter(
        "since",
        "--since",
        "TIME",
        "From this time: 2026-11-20, 2026-11-20T14:00, 2h, 3d.",
        each("o.timestamp >= ?"),
        read=_moment,
    ),
    Filter(
        "until",
        "--until",
        "TIME",
        "Up to this time (same forms as --since).",
        each("o.timestamp <= ?"),
        read=_moment,
    ),
    Filter(
        "customer_account",
        "--customer-account",
        "ACCOUNT",
        "HQ customer account, e.g. C000123.",
        each("o.customer_account = ?"),
    ),
    Filter(
        "async_account",
        "--async-account",
        "GUID",
        "The channel's async customer GUID.",
        each("o.async_account = ?"),
    ),
    Filter(
        "error",
        "--error",
        "TEXT",
        "Text in the error message or code.",
        each(
            "o.id IN (SELECT operation_id FROM operation_errors"
            " WHERE message LIKE ? ESCAPE '\\' OR code LIKE ? ESCAPE '\\')",
            lambda text: [_like(text)] * 2,
        ),
    ),
    Filter(
        "error_code",
        "--error-code",
        "CODE",
        "Stable error code, e.g. invalid_email.",
        each("o.id IN (SELECT operation_id FROM operation_errors WHERE code = ?)"),
        known=Known.error_code,
    ),
    Filter(
        "where",
        "--where",
        "FIELD=VALUE",
        "FIELD=VALUE, or FIELD~TEXT for contains, on any customer or"
        " address field or attribute (repeatable).",
        _field_matches,
        repeatable=True,
        read=FieldMatch.parse,
        completes_fields=True,
    ),
)
BY_NAME: dict[str, Filter] = {f.name: f for f in FILTERS}


class OperationFilter:
    """Checked values of the filters, by filter name; none given means every operation.

    Filters combine with AND; the values of one repeatable filter with OR (``--where``: AND).
    """

    def __init__(self, **values: Sequence[Any]) -> None:
        unknown = set(values) - set(BY_NAME)
        if unknown:
            raise TypeError(f"no filter named {', '.join(sorted(unknown))}")
        self.values: dict[str, list[Any]] = {k: list(v) for k, v in values.items() if v}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OperationFilter) and other.values == self.values

    def __repr__(self) -> str:
        return f"OperationFilter({self.values!r})"

    def get(self, name: str) -> list[Any]:
        return self.values.get(name, [])

    def is_empty(self) -> bool:
        return not self.values

    def default(self, name: str, values: Sequence[Any]) -> None:
        """Restrict ``name`` to ``values`` unless the filter was given."""
        if not self.get(name):
            self.values[name] = list(values)


def unknown_value(option: str, noun: str, value: str, valid: Iterable[str]) -> UsageError:
    """The usage error for a value outside its closed set: the closest match, or all of them."""
    choices = sorted(set(valid))
    close = difflib.get_close_matches(value, choices, n=1)
    if close:
        return UsageError(f"{option}: unknown {noun} '{value}'; did you mean {close[0]}?")
    listed = ", ".join(choices) if choices else "none yet"
    return UsageError(f"{option}: unknown {noun} '{value}' (valid: {listed})")


@dataclass
class Vocabulary:
    """What filter values may be: the closed sets, the configured channels, the store's."""

    catalogue: Catalogue
    channels: Sequence[str] = ()
    conn: sqlite3.Connection | None = None

    def accepts(self, known: Known, value: str) -> bool:
        if known is Known.channel:
            if value in self.channels:
                return True
            return self.conn is not None and self._stored_channel(value)
        return value in self.valid(known)

    def valid(self, known: Known) -> list[str]:
        from custsync_cli.domain.codes import CODES
        from custsync_cli.domain.models import OperationType, Status

        if known is Known.status:
            return [s.value for s in Status]
        if known is Known.operation:
            return [o.value for o in OperationType]
        if known is Known.error_code:
            return list(CODES)
        stored: list[str] = []
        if self.conn is not None:
            rows = self.conn.execute("SELECT DISTINCT channel FROM operations")
            stored = [str(row[0]) for row in rows]
        return [*self.channels, *stored]

    def _stored_channel(self, name: str) -> bool:
        assert self.conn is not None
        found = self.conn.execute(
            "SELECT 1 FROM operations WHERE channel = ? LIMIT 1", (name,)
        ).fetchone()
        return found is not None


def build(
    typed: Mapping[str, str | Sequence[str] | None], vocabulary: Vocabulary
) -> OperationFilter:
    """Read and check the filter options as typed (by filter name) into an ``OperationFilter``."""
    values: dict[str, list[Any]] = {}
    for flt in FILTERS:
        given = typed.get(flt.name)
        texts = [given] if isinstance(given, str) else list(given or [])
        if not flt.repeatable:
            texts = [text for text in texts if text]  # an empty value restricts nothing
        for text in texts:
            if flt.known is not None and not vocabulary.accepts(flt.known, text):
                raise unknown_value(flt.option, flt.known.value, text, vocabulary.valid(flt.known))
        if texts:
            values[flt.name] = [flt.read(text, vocabulary.catalogue) for text in texts]
    return OperationFilter(**values)


def where_clause(flt: OperationFilter) -> Condition:
    """SQL condition on ``operations AS o`` and its parameters; values are always bound."""
    parts: list[str] = []
    params: list[Any] = []
    for declared in FILTERS:
        values = flt.get(declared.name)
        if values:
            for condition, bound in declared.sql(values):
                parts.append(condition)
                params.extend(bound)
    return (" AND ".join(parts) or "1"), params
