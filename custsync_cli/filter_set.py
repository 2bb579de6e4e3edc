"""The list filters of DESIGN §4, declared once: options, checks and SQL all derive from FILTERS.

``cli.filters`` turns each declaration into a Typer option, ``cli.fast`` into its parser's
spec, and ``store.filters`` checks the typed values and joins each filter's SQL condition.
A new filter is one more entry in ``FILTERS``. Pure data: importing it (as ``--help`` does)
loads neither the store nor the domain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from custsync_cli.errors import UsageError

if TYPE_CHECKING:
    from custsync_cli.domain.fields import Catalogue

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


# Fields whose new value has an expression index (store migration "fields_in_row"), so
# --where FIELD=VALUE on them is a search; any other field is a scan (docs/performance.md).
INDEXED_FIELDS = ("email", "phone", "first_name", "last_name", "organization_name")


def _plain_json(text: str) -> bool:
    """Whether ``text`` is stored in the JSON text unescaped, so a substring test on the
    whole ``new_values`` may rule a row out before any JSON is parsed."""
    return json.dumps(text, ensure_ascii=False)[1:-1] == text


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
        parts: list[str] = []
        params: list[Any] = []
        if match.name in INDEXED_FIELDS and not match.contains:
            value = f"json_extract(o.new_values, '$.{match.name}')"
        else:
            # A scan of the table (for ~ also on an indexed field: walking its index would
            # read every row out of order): first the cheap substring test on the row's JSON
            # text, when it is exact enough to rule rows out (keys sorted, values unescaped).
            value = "json_extract(o.new_values, ?)"
            if _plain_json(match.value):
                if match.contains:
                    parts.append("o.new_values LIKE ? ESCAPE '\\'")
                    params.append(_like(match.value))
                else:
                    parts.append("instr(o.new_values, ?) > 0")
                    params.append(f'"{match.name}":"{match.value}"')
            params.append(f'$."{match.name}"')
        if match.contains:
            parts.append(f"{value} LIKE ? ESCAPE '\\'")
            params.append(_like(match.value))
        else:
            parts.append(f"{value} = ?")
            params.append(match.value)
        conditions.append((" AND ".join(parts), params))
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
BY_OPTION: dict[str, Filter] = {f.option: f for f in FILTERS}

Typed = dict[str, str | list[str]]
"""Filter options as typed, by filter name: one text, or the texts of a repeatable filter."""


def read_options(words: Sequence[str]) -> Typed:
    """The filter options among ``words`` (``--status failed`` or ``--status=failed``), as
    typed; anything but a filter option with its value is a ``UsageError``."""
    typed: Typed = {}
    args = iter(words)
    for word in args:
        option, eq, inline = word.partition("=")
        declared = BY_OPTION.get(option)
        if declared is None:
            known = ", ".join(BY_OPTION)
            raise UsageError(f"'{word}' is not a filter option (filter options: {known})")
        value = inline if eq else next(args, None)
        if value is None:
            raise UsageError(f"{option} needs a value")
        if declared.repeatable:
            listed = typed.setdefault(declared.name, [])
            assert isinstance(listed, list)
            listed.append(value)
        elif declared.name in typed:
            raise UsageError(f"{option} is given twice")
        else:
            typed[declared.name] = value
    return typed


def combine(base: Typed, given: Typed) -> Typed:
    """``given`` added to ``base`` (a saved view): a repeatable filter's values add up, a
    single-valued filter given on the command line replaces the view's."""
    combined: Typed = dict(base)
    for name, value in given.items():
        before = combined.get(name)
        if BY_NAME[name].repeatable and isinstance(before, list) and isinstance(value, list):
            combined[name] = [*before, *value]
        else:
            combined[name] = value
    return combined
