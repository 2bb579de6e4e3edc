"""Filter values checked into an ``OperationFilter``, and its SQL; the filters are declared
in ``custsync_cli.filter_set``."""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custsync_cli.config import Config
from custsync_cli.domain.fields import Catalogue
from custsync_cli.errors import ConfigError, UsageError
from custsync_cli.filter_set import BY_NAME, FILTERS, Condition, FieldMatch, Known

__all__ = [
    "FieldMatch",
    "OperationFilter",
    "Vocabulary",
    "build",
    "check_views",
    "unknown_value",
    "where_clause",
]


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


# Values a channel sent are valid filter values too, even where custsync does not know them
# (a channel of an earlier config, an operation type this version cannot apply).
STORED_COLUMNS = {Known.channel: "channel", Known.operation: "operation"}


@dataclass
class Vocabulary:
    """What filter values may be: the closed sets, the configured channels, the store's."""

    catalogue: Catalogue
    channels: Sequence[str] = ()
    conn: sqlite3.Connection | None = None

    def accepts(self, known: Known, value: str) -> bool:
        if value in self._given(known):
            return True
        column = STORED_COLUMNS.get(known)
        return column is not None and self.conn is not None and self._stored(column, value)

    def valid(self, known: Known) -> list[str]:
        given = self._given(known)
        column = STORED_COLUMNS.get(known)
        if column is None or self.conn is None:
            return given
        stored = self.conn.execute(f"SELECT DISTINCT {column} FROM operations ORDER BY 1")
        return [*given, *(str(row[0]) for row in stored if str(row[0]) not in given)]

    def _given(self, known: Known) -> list[str]:
        """The values ``known`` takes without asking the store."""
        from custsync_cli.domain.codes import CODES
        from custsync_cli.domain.models import OperationType, Status

        if known is Known.status:
            return [s.value for s in Status]
        if known is Known.operation:
            return [o.value for o in OperationType]
        if known is Known.error_code:
            return list(CODES)
        return list(self.channels)

    def _stored(self, column: str, value: str) -> bool:
        assert self.conn is not None
        found = self.conn.execute(
            f"SELECT 1 FROM operations WHERE {column} = ? LIMIT 1", (value,)
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


def check_views(config: Config, catalogue: Catalogue) -> None:
    """Check every saved view's values as ``build`` checks typed ones; a bad value is a config
    error naming the view. Channels must be configured ones: a view outlives the store's."""
    channels = [channel.name for channel in config.channels]
    for view in config.views:
        try:
            build(view.typed, Vocabulary(catalogue, channels))
        except UsageError as exc:
            where = config.path or "config"
            raise ConfigError(f"{where}: view '{view.name}': {exc.message}") from None


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
