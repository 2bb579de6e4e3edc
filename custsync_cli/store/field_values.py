"""Field values kept as JSON objects in the operation row: their encoding, and one field's
record (channel, new, old value and marks) read back from those columns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The operation columns that hold its field values, in this order (see docs/schema.md).
FIELD_COLUMNS = (
    "new_values",
    "channel_values",
    "old_values",
    "edited_fields",
    "dropped_fields",
    "conflicts",
)

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def encode(values: Mapping[str, Any] | Sequence[str]) -> str:
    """The stored JSON text: compact, keys sorted, non-ASCII kept as is."""
    return _ENCODER.encode(values)


def encode_or_null(values: Mapping[str, Any] | Sequence[str]) -> str | None:
    """``encode``, or NULL for an empty object or list (what the row stores for none)."""
    return encode(values) if values else None


def _object(text: str | None) -> dict[str, Any]:
    return dict(json.loads(text)) if text else {}


@dataclass
class FieldValues:
    """An operation's field columns, decoded; ``channel`` is None while nothing was edited."""

    new: dict[str, str | None]
    channel: dict[str, str | None] | None = None
    old: dict[str, str | None] = field(default_factory=dict)
    edited: list[str] = field(default_factory=list)
    dropped: dict[str, str | None] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def decode(cls, row: Sequence[Any]) -> FieldValues:
        """From the ``FIELD_COLUMNS`` of a row, in their order."""
        new, channel, old, edited, dropped, conflicts = row
        return cls(
            _object(new),
            _object(channel) if channel is not None else None,
            _object(old),
            list(json.loads(edited)) if edited else [],
            _object(dropped),
            {str(k): int(v) for k, v in _object(conflicts).items()},
        )

    def encoded(self) -> tuple[str, str | None, str | None, str | None, str | None, str | None]:
        """The ``FIELD_COLUMNS`` values to store."""
        return (
            encode(self.new),
            encode(self.channel) if self.channel is not None else None,
            encode_or_null(self.old),
            encode_or_null(sorted(set(self.edited))),
            encode_or_null(self.dropped),
            encode_or_null(self.conflicts),
        )

    def wanted(self, name: str) -> str | None:
        """The value the operation holds for ``name``, dropped or not."""
        return self.dropped[name] if name in self.dropped else self.new.get(name)

    def records(self) -> list[dict[str, Any]]:
        """One record per field the operation holds (sent, or added by an operator), by name:
        name, channel_value, new_value, old_value, edited, dropped, conflict_with."""
        channel = self.new if self.channel is None else self.channel
        return [
            {
                "name": name,
                "channel_value": channel.get(name),
                "new_value": self.wanted(name),
                "old_value": self.old.get(name),
                "edited": name in self.edited,
                "dropped": name in self.dropped,
                "conflict_with": self.conflicts.get(name),
            }
            for name in sorted({*self.new, *self.dropped})
        ]

    def edit(self, name: str, value: str | None, unset: bool) -> None:
        """An operator sets ``name`` to ``value``, or unsets (drops) it; the channel's values
        stay on record. Unsetting a field the operation does not hold changes nothing."""
        if self.channel is None:
            self.channel = dict(self.new)
        if unset:
            if name in self.new:
                self.dropped[name] = self.new.pop(name)
            if name not in self.dropped:
                return
        else:
            self.dropped.pop(name, None)
            self.new[name] = value
        if name not in self.edited:
            self.edited.append(name)
