"""A shop with operations in every status, built once per test session through the real jobs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import Workspace, address, person

ATTRIBUTES = [
    {"name": "loyalty_tier", "type": "choice", "choices": ["bronze", "silver", "gold"]},
    {"name": "birth_year", "type": "integer", "min": 1900, "max": 2026},
]


@dataclass
class Shop:
    """The workspace and the store id of each named operation."""

    workspace: Workspace
    ids: dict[str, int] = field(default_factory=dict)
    recent_at: str = ""

    @property
    def config(self) -> Path:
        return self.workspace.config_path

    def store(self) -> sqlite3.Connection:
        return self.workspace.store()


def build_shop(root: Path) -> Shop:
    ws = Workspace(root)
    ws.write_config(attributes=ATTRIBUTES)
    web, till = ws.channel("web-se"), ws.channel("store-042")
    counters: dict[str, tuple[str, int]] = {}

    def add(name: str, channel: str, *args: object, **kwargs: object) -> None:
        db = web if channel == "web-se" else till
        counters[name] = (channel, db.add(*args, **kwargs))  # type: ignore[arg-type]

    add(
        "anna_create",
        "web-se",
        "anna-1",
        "create_customer",
        person(loyalty_tier="gold", birth_year=1980),
        created_by="u-1043",
    )
    add("anna_address", "web-se", "anna-1", "create_address", address("A1"))
    add(
        "anna_update",
        "web-se",
        "anna-1",
        "update_customer",
        {"email": "anna.s@example.se", "phone": "+46 70 999 88 77"},
    )
    add("bob_create", "web-se", "bob-1", "create_customer", person("Bob", "Ek", email="bob@"))
    add("bob_update", "web-se", "bob-1", "update_customer", {"phone": "+46 70 111 22 33"})
    add(
        "acme_create",
        "web-se",
        "acme-1",
        "create_customer",
        {"type": "organization", "organization_name": "Acme AB", "loyalty_tier": "silver"},
    )
    add("carl_create", "store-042", "carl-1", "create_customer", person("Carl", "Berg"))
    add(
        "carl_address",
        "store-042",
        "carl-1",
        "create_address",
        address("A1", country="SVE", city="Göteborg"),
    )
    add("ghost_update", "store-042", "ghost-1", "update_customer", {"phone": "+46 70 000 00 00"})
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    add(
        "nina_create",
        "store-042",
        "nina-1",
        "create_customer",
        person("Nina", "Recent"),
        created_at=recent,
    )
    done = ws.run("run-jobs")
    assert done.returncode == 0, done.stderr
    shop = Shop(ws, recent_at=recent)
    with ws.store() as conn:
        for name, (channel, counter) in counters.items():
            shop.ids[name] = conn.execute(
                "SELECT id FROM operations WHERE channel = ? AND replication_counter = ?",
                (channel, counter),
            ).fetchone()[0]
    return shop


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return build_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture
def shop(built_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    """The module's shop, with the environment pointing at it; tests must not change it."""
    for name in ("CUSTSYNC_DB", "CUSTSYNC_FAULT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTSYNC_CONFIG", str(built_shop.config))
    monkeypatch.setenv("CUSTSYNC_ACTOR", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(built_shop.workspace.root)
    yield built_shop
