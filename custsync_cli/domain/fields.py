"""The field catalogue: built-in customer and address fields plus configured attributes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from custsync_cli.domain.models import OperationType

CUSTOMER_FIELDS: tuple[str, ...] = (
    "type",
    "first_name",
    "middle_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
)
ADDRESS_FIELDS: tuple[str, ...] = (
    "address_id",
    "name",
    "street",
    "city",
    "county",
    "state",
    "zip_code",
    "country",
    "purpose",
    "is_primary",
)
CUSTOMER_TYPES = ("person", "organization")
ADDRESS_PURPOSES = ("home", "business", "delivery", "invoice")
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


class ValueNotScalar(ValueError):
    """A channel sent a list or object where a single value belongs."""


def to_text(value: Any) -> str | None:
    """The canonical text form of a JSON scalar, as the store keeps field values."""
    if value.__class__ is str:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueNotScalar(type(value).__name__)


def parse_boolean(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


@dataclass(frozen=True)
class Catalogue:
    """Which field names exist, for which operation types."""

    attributes: tuple[str, ...] = ()

    @property
    def customer_fields(self) -> tuple[str, ...]:
        return CUSTOMER_FIELDS + self.attributes

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.customer_fields + ADDRESS_FIELDS

    def allowed_for(self, kind: OperationType) -> tuple[str, ...]:
        return ADDRESS_FIELDS if kind.is_address else self.customer_fields

    def is_known(self, name: str) -> bool:
        return name in self.all_fields


def decode_channel_fields(text: str) -> dict[str, Any]:
    """Parse an outbox ``fields`` column; raise ValueError if it is not a JSON object."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("fields is not a JSON object")
    return data
