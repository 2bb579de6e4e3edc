"""Generate a benchmark workspace: N outbox operations over 4 channel databases, from a seed."""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHANNELS = ("web-se", "store-001", "store-042", "pos-oslo")
FIRST = (
    *("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sara", "Per"),
    *("Emma", "Nils", "Ida", "Olof", "Lena", "Mats", "Ingrid", "Karl", "Astrid", "Sven"),
    *("Maja", "Hugo", "Elsa", "Oskar", "Alva", "Liam", "Nora", "Axel", "Saga", "Leo"),
)
LAST = (
    *("Svensson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson"),
    *("Persson", "Andersson", "Berg", "Lindqvist", "Holm", "Lund", "Ekström", "Sandberg"),
    *("Hansen", "Olsen", "Nielsen", "Virtanen", "Korhonen"),
)
STREETS = ("Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen", "Bogstadveien")
CITIES = (("Stockholm", "SWE", "+46 70"), ("Oslo", "NOR", "+47 9"), ("Helsinki", "FIN", "+358 40"))
CURRENCIES = ("SEK", "NOK", "EUR")
LANGUAGES = ("sv-SE", "nb-NO", "fi-FI", "en-GB")
GROUPS = ("retail", "member", "staff")
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)

# Share of each operation kind; the rest of the stream is creates.
UPDATE_SHARE = 0.15
CREATE_ADDRESS_SHARE = 0.12
UPDATE_ADDRESS_SHARE = 0.05
INVALID_SHARE = 0.10

OUTBOX_SCHEMA = """
CREATE TABLE async_customer_operation (
  replication_counter INTEGER PRIMARY KEY AUTOINCREMENT,
  async_account TEXT NOT NULL,
  operation     TEXT NOT NULL,
  fields        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  created_by    TEXT
);
CREATE TABLE customer (
  async_account    TEXT PRIMARY KEY,
  customer_account TEXT,
  record           TEXT,
  synced_at        TEXT
);
"""


class Stream:
    """One channel's outbox as a deterministic stream of operations."""

    def __init__(self, rng: random.Random, channel_index: int) -> None:
        self.rng = rng
        self.channel_index = channel_index
        self.customers: list[str] = []
        self.addresses: list[tuple[str, str]] = []
        self.serial = 0

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def person(self) -> dict[str, object]:
        rng = self.rng
        self.serial += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        prefix = rng.choice(CITIES)[2]
        return {
            "type": "person",
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}.{self.channel_index}x{self.serial}@example.com".lower(),
            "phone": f"{prefix} {rng.randrange(1000000, 9999999)}",
            "currency": rng.choice(CURRENCIES),
            "language": rng.choice(LANGUAGES),
            "customer_group": rng.choice(GROUPS),
        }

    def address(self, address_id: str) -> dict[str, object]:
        rng = self.rng
        city, country, _ = rng.choice(CITIES)
        return {
            "address_id": address_id,
            "street": f"{rng.choice(STREETS)} {rng.randrange(1, 200)}",
            "city": city,
            "zip_code": str(rng.randrange(10000, 99999)),
            "country": country,
            "purpose": rng.choice(("home", "delivery", "invoice")),
            "is_primary": rng.random() < 0.5,
        }

    def spoil(self, fields: dict[str, object]) -> None:
        """Make one operation invalid in one of the ways channels really get wrong."""
        rng = self.rng
        choice = rng.randrange(5)
        if "address_id" in fields:
            if choice < 2:
                fields["country"] = "SE"
            elif choice < 4:
                fields["zip_code"] = "123456789012"
            else:
                fields["street"] = ""
            return
        if choice == 0:
            fields["email"] = "not-an-email"
        elif choice == 1:
            fields["last_name"] = "Lindqvist-Ekström-Sandberg-Holm"
        elif choice == 2:
            fields["currency"] = "XXQ"
        elif choice == 3:
            fields["phone"] = "12"
        else:
            fields.pop("last_name", None)
            fields["first_name"] = ""

    def next(self) -> tuple[str, str, dict[str, object]]:
        rng = self.rng
        roll = rng.random()
        if self.customers and roll < UPDATE_SHARE:
            account = rng.choice(self.customers)
            fields: dict[str, object] = {"phone": f"+46 73 {rng.randrange(1000000, 9999999)}"}
            if rng.random() < 0.5:
                fields["customer_group"] = rng.choice(GROUPS)
            operation = "update_customer"
        elif self.customers and roll < UPDATE_SHARE + CREATE_ADDRESS_SHARE:
            account = rng.choice(self.customers)
            address_id = f"A{rng.getrandbits(32):08x}"
            self.addresses.append((account, address_id))
            fields = self.address(address_id)
            operation = "create_address"
        elif self.addresses and roll < UPDATE_SHARE + CREATE_ADDRESS_SHARE + UPDATE_ADDRESS_SHARE:
            account, address_id = rng.choice(self.addresses)
            fields = {"address_id": address_id, "street": f"{rng.choice(STREETS)} 9"}
            operation = "update_address"
        else:
            account = self.guid()
            fields = self.person()
            operation = "create_customer"
        if rng.random() < INVALID_SHARE and operation != "update_address":
            self.spoil(fields)
        elif operation == "create_customer":
            self.customers.append(account)
            if len(self.customers) > 5000:
                self.customers.pop(rng.randrange(len(self.customers)))
        if len(self.addresses) > 5000:
            self.addresses.pop(rng.randrange(len(self.addresses)))
        return account, operation, fields


def generate(root: Path, ops: int, seed: int) -> dict[str, object]:
    """Write ``root``/custsync.yaml and ``root``/channels/*.db; return a manifest."""
    root.mkdir(parents=True, exist_ok=True)
    channel_dir = root / "channels"
    channel_dir.mkdir(exist_ok=True)
    rng = random.Random(seed)
    per_channel = [ops // len(CHANNELS)] * len(CHANNELS)
    per_channel[0] += ops - sum(per_channel)
    sample_email = None
    for index, (name, count) in enumerate(zip(CHANNELS, per_channel, strict=True)):
        path = channel_dir / f"{name}.db"
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.executescript(OUTBOX_SCHEMA)
        stream = Stream(random.Random(rng.getrandbits(64)), index)
        clock = BASE_TIME + timedelta(seconds=index)

        def rows(stream: Stream = stream, count: int = count, name: str = name) -> object:
            nonlocal clock
            for _ in range(count):
                clock += timedelta(milliseconds=stream.rng.randrange(200, 5000))
                account, operation, fields = stream.next()
                yield (
                    account,
                    operation,
                    json.dumps(fields, ensure_ascii=False),
                    clock.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    f"{name}-terminal-{stream.rng.randrange(1, 9)}",
                )

        with conn:
            conn.executemany(
                "INSERT INTO async_customer_operation"
                " (async_account, operation, fields, created_at, created_by)"
                " VALUES (?, ?, ?, ?, ?)",
                rows(),  # type: ignore[arg-type]
            )
        if sample_email is None:
            found = conn.execute(
                "SELECT json_extract(fields, '$.email') FROM async_customer_operation"
                " WHERE operation = 'create_customer'"
                " AND json_extract(fields, '$.email') LIKE '%@example.com'"
                " ORDER BY replication_counter DESC LIMIT 1"
            ).fetchone()
            sample_email = found[0] if found else None
        conn.close()
    config = root / "custsync.yaml"
    lines = ["store: custsync.db", "sequence:", "  width: 8", "  last: 99999999", "channels:"]
    for name in CHANNELS:
        lines += [f"  - name: {name}", f"    database: channels/{name}.db"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = {"ops": ops, "seed": seed, "channels": list(CHANNELS), "email": sample_email}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, help="workspace folder to (re)create")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(json.dumps(generate(args.root, args.ops, args.seed)))


if __name__ == "__main__":
    main()
