"""The validation settings the rules read: limits, allowed values and custom attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

ATTRIBUTE_TYPES = ("text", "integer", "decimal", "boolean", "choice")

# HQ columns are shorter than the channels' columns: the classic cause of failed uploads.
DEFAULT_MAX_LENGTHS: dict[str, int] = {
    "first_name": 25,
    "middle_name": 25,
    "last_name": 25,
    "organization_name": 100,
    "email": 80,
    "phone": 20,
    "customer_group": 10,
    "currency": 3,
    "language": 7,
    "address_id": 40,
    "name": 60,
    "street": 60,
    "city": 40,
    "county": 20,
    "state": 20,
    "zip_code": 10,
}


@dataclass(frozen=True)
class AttributeSpec:
    """A custom customer attribute: its type and the bounds its values must keep."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationSettings:
    """What the validator checks against; ``None`` lists mean the ISO (or any) default."""

    max_lengths: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_LENGTHS))
    currencies: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    customer_groups: tuple[str, ...] | None = None
    duplicate_email: str = "fail"
    phone_region: str | None = None
    attributes: tuple[AttributeSpec, ...] = ()

    @property
    def warn_duplicate_email(self) -> bool:
        """A duplicate email is a warning, not a failure."""
        return self.duplicate_email == "warn"
