"""Reproducible demo data: channel databases full of realistic customer operations, some bad."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from custsync_cli.channels.sqlite_outbox import append_outbox_rows, create_channel_database

DEMO_SEED = 20261126
DEMO_START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoChannel:
    name: str
    locale: str
    country: str
    currency: str
    language: str
    phone_prefix: str
    customers: int
    user_prefix: str


DEMO_CHANNELS = (
    DemoChannel("web-se", "sv_SE", "SWE", "SEK", "sv-SE", "+46 70", 70, "web-user"),
    DemoChannel("store-042", "sv_SE", "SWE", "SEK", "sv-SE", "+46 73", 45, "pos-042-t"),
    DemoChannel("store-117", "de_DE", "DEU", "EUR", "de-DE", "+49 151", 40, "pos-117-t"),
)

DEMO_CONFIG = """\
# custsync demo configuration: three channels, a number sequence, validation and attributes.
store: custsync.db
channels:
  - name: web-se           # the Swedish online store
    database: channels/web-se.db
  - name: store-042        # point-of-sale, Stockholm
    database: channels/store-042.db
  - name: store-117        # point-of-sale, Berlin
    database: channels/store-117.db
sequence:
  name: customer_account
  prefix: C
  width: 6
  first: 1
  last: 999999
validation:
  currencies: [SEK, EUR, NOK, DKK, USD]
  customer_groups: [retail, staff, wholesale, vip]
  duplicate_email: fail
attributes:
  - name: loyalty_tier
    type: choice
    choices: [bronze, silver, gold]
  - name: birth_year
    type: integer
    min: 1900
    max: 2026
  - name: newsletter
    type: boolean
jobs:
  batch_size: 500
  interval: 60
"""


class _Channel:
    """Builds one channel's outbox rows in the order its users would have made them."""

    def __init__(self, spec: DemoChannel, rng: random.Random, seed: int) -> None:
        from faker import Faker

        self.spec = spec
        self.rng = rng
        self.fake = Faker(spec.locale)
        self.fake.seed_instance(seed)
        self.clock = DEMO_START
        self.rows: list[tuple[str, str, str, str, str]] = []

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, account: str, operation: str, fields: dict[str, Any]) -> None:
        self.clock += timedelta(minutes=self.rng.randint(1, 40), seconds=self.rng.randint(0, 59))
        user = f"{self.spec.user_prefix}{self.rng.randint(1, 60)}"
        stamp = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.rows.append((account, operation, json.dumps(fields, ensure_ascii=False), stamp, user))

    def phone(self) -> str:
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(7))
        return f"{self.spec.phone_prefix} {digits[:3]} {digits[3:5]} {digits[5:]}"

    def person(self) -> dict[str, Any]:
        first, last = self.fake.first_name(), self.fake.last_name()
        domain = self.rng.choice(["example.se", "example.com", "mail.example.net"])
        email = f"{first}.{last}{self.rng.randint(1, 999)}@{domain}".lower()
        fields: dict[str, Any] = {
            "type": "person",
            "first_name": first,
            "last_name": last,
            "email": email.replace(" ", ""),
            "phone": self.phone(),
            "customer_group": self.rng.choice(["retail", "retail", "retail", "vip", "staff"]),
            "currency": self.spec.currency,
            "language": self.spec.language,
            "loyalty_tier": self.rng.choice(["bronze", "bronze", "silver", "gold"]),
        }
        if self.rng.random() < 0.5:
            fields["birth_year"] = self.rng.randint(1940, 2006)
        if self.rng.random() < 0.5:
            fields["newsletter"] = self.rng.random() < 0.6
        return fields

    def organization(self) -> dict[str, Any]:
        name = self.fake.company()
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "company"
        return {
            "type": "organization",
            "organization_name": name,
            "email": f"info@{slug}.example.com",
            "phone": self.phone(),
            "customer_group": "wholesale",
            "currency": self.spec.currency,
            "language": self.spec.language,
        }

    def address(self, address_id: str, primary: bool) -> dict[str, Any]:
        return {
            "address_id": address_id,
            "name": self.rng.choice(["Home", "Work", "Delivery"]),
            "street": self.fake.street_address(),
            "city": self.fake.city(),
            "zip_code": self.fake.postcode(),
            "country": self.spec.country,
            "purpose": self.rng.choice(["home", "delivery", "invoice"]),
            "is_primary": primary,
        }


def _spoil(channel: _Channel, fields: dict[str, Any], kind: str, taken_emails: list[str]) -> None:
    """Make a create invalid in one realistic way."""
    rng = channel.rng
    if kind == "bad_email":
        fields["email"] = rng.choice(["anna.svensson@", "kalle at example.se", "info@@shop.se"])
    elif kind == "missing_last_name":
        fields["type"] = "person"
        fields.pop("last_name", None)
        fields.setdefault("first_name", channel.fake.first_name())
    elif kind == "unknown_country":
        fields["__country__"] = rng.choice(["SVE", "GER", "UK", "Sweden"])
    elif kind == "duplicate_email" and taken_emails:
        fields["email"] = rng.choice(taken_emails)
    elif kind == "organization_without_name":
        fields.update(channel.organization())
        fields["organization_name"] = ""
    elif kind == "unknown_attribute_value":
        fields["type"] = "person"
        fields["loyalty_tier"] = rng.choice(["platinum", "diamond"])
    elif kind == "long_first_name":
        fields["first_name"] = "Anna-Karin Maria Elisabeth Charlotte"
    elif kind == "bad_phone":
        fields["phone"] = rng.choice(["070-ABC 12", "12"])


SPOILERS = (
    "bad_email",
    "missing_last_name",
    "unknown_country",
    "duplicate_email",
    "organization_without_name",
    "unknown_attribute_value",
    "long_first_name",
    "bad_phone",
)


def _channel_rows(spec: DemoChannel, seed: int) -> Iterator[tuple[str, str, str, str, str]]:
    rng = random.Random(f"{seed}-{spec.name}")
    channel = _Channel(spec, rng, seed)
    taken: list[str] = []
    for index in range(spec.customers):
        account = channel.guid()
        fields = channel.organization() if rng.random() < 0.15 else channel.person()
        spoil = rng.random() < 0.13
        address = channel.address("ADDR-1", True)
        if spoil:
            kind = SPOILERS[index % len(SPOILERS)]
            _spoil(channel, fields, kind, taken)
            if "__country__" in fields:
                address["country"] = fields.pop("__country__")
        elif isinstance(fields.get("email"), str):
            taken.append(fields["email"])
        channel.add(account, "create_customer", fields)
        roll = rng.random()
        if rng.random() < 0.06:
            address["street"] = (
                f"{channel.fake.street_address()}, {channel.fake.street_name()}, c/o"
                f" {channel.fake.name()}, entrance {rng.randint(1, 9)}"
            )
        channel.add(account, "create_address", address)
        if roll < 0.35:
            channel.add(account, "update_customer", {"phone": channel.phone()})
        elif roll < 0.5:
            email = f"{channel.fake.user_name()}{rng.randint(10, 99)}@example.org"
            channel.add(account, "update_customer", {"email": email})
        if roll > 0.85:
            channel.add(
                account, "update_address", {"address_id": "ADDR-1", "city": channel.fake.city()}
            )
        if 0.7 < roll < 0.8:
            channel.add(account, "create_address", channel.address("ADDR-2", False))
    yield from channel.rows


def write_demo(folder: Path, seed: int = DEMO_SEED) -> list[Path]:
    """Write the demo config and channel databases; existing files are kept as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "channels").mkdir(exist_ok=True)
    config = folder / "custsync.yaml"
    if not config.exists():
        config.write_text(DEMO_CONFIG, encoding="utf-8")
    written: list[Path] = []
    for spec in DEMO_CHANNELS:
        path = folder / "channels" / f"{spec.name}.db"
        if path.exists():
            continue
        temporary = path.with_suffix(".db.partial")
        temporary.unlink(missing_ok=True)
        create_channel_database(temporary)
        append_outbox_rows(temporary, _channel_rows(spec, seed))
        temporary.rename(path)
        written.append(path)
    return written
