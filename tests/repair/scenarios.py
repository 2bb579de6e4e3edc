"""Stores with failed, blocked and conflicting operations, built through the real jobs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.store.database import open_store
from tests.helpers import Workspace, person

ANNA = "6f1c1d4e-0000-4000-8000-0000000000a1"
ERIK = "6f1c1d4e-0000-4000-8000-0000000000e1"
MAJA = "6f1c1d4e-0000-4000-8000-0000000000c1"


@dataclass
class Chain:
    """Anna's create failed on a bad email and her update waits for it; Erik synced."""

    create: int
    update: int
    erik: int


@dataclass
class Conflict:
    """Maja synced; an older update failed on its phone, a newer one changed her email."""

    create: int
    older: int
    newer: int


def op_id(ws: Workspace, async_account: str, operation: str, nth: int = 0) -> int:
    conn = ws.store()
    rows = conn.execute(
        "SELECT id FROM operations WHERE async_account = ? AND operation = ? ORDER BY id",
        (async_account, operation),
    ).fetchall()
    conn.close()
    return int(rows[nth][0])


def run_jobs(ws: Workspace) -> None:
    from custsync_cli.cli import run

    assert run(["--config", str(ws.config_path), "run-jobs"]) == 0


def failed_chain(ws: Workspace) -> Chain:
    web = ws.channel("web-se")
    web.add(ANNA, "create_customer", person(email="anna.svensson@"))
    web.add(ANNA, "update_customer", {"phone": "+46 70 555 12 34"})
    web.add(ERIK, "create_customer", person("Erik", "Lund"))
    run_jobs(ws)
    return Chain(
        create=op_id(ws, ANNA, "create_customer"),
        update=op_id(ws, ANNA, "update_customer"),
        erik=op_id(ws, ERIK, "create_customer"),
    )


def conflict(ws: Workspace) -> Conflict:
    web = ws.channel("web-se")
    web.add(MAJA, "create_customer", person("Maja", "Berg"))
    web.add(MAJA, "update_customer", {"email": "maja.old@example.se", "phone": "not a phone"})
    web.add(MAJA, "update_customer", {"email": "maja.new@example.se"})
    run_jobs(ws)
    return Conflict(
        create=op_id(ws, MAJA, "create_customer"),
        older=op_id(ws, MAJA, "update_customer", 0),
        newer=op_id(ws, MAJA, "update_customer", 1),
    )


@contextmanager
def job_context(ws: Workspace, actor: str = "tester") -> Iterator[JobContext]:
    config = load_config(ws.config_path)
    with open_store(ws.store_path, create=True) as store:
        yield JobContext(config=config, store=store, actor=actor)


def operation(ws: Workspace, op: int) -> dict[str, Any]:
    conn = ws.store()
    row = conn.execute("SELECT * FROM operations WHERE id = ?", (op,)).fetchone()
    conn.close()
    return dict(row)


def fields(ws: Workspace, op: int) -> dict[str, dict[str, Any]]:
    from custsync_cli.store.operations import field_values

    conn = ws.store()
    records = field_values(conn, op).records()
    conn.close()
    return {record["name"]: record for record in records}


def events(ws: Workspace, op: int | None = None, action: str | None = None) -> list[dict[str, Any]]:
    import json

    conn = ws.store()
    rows = conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    conn.close()
    found = []
    for row in rows:
        if op is not None and row["operation_id"] != op:
            continue
        if action is not None and row["action"] != action:
            continue
        event = dict(row)
        event["details"] = json.loads(event["details"])
        found.append(event)
    return found


def customer(ws: Workspace, async_account: str) -> dict[str, Any] | None:
    conn = ws.store()
    row = conn.execute(
        "SELECT * FROM customers WHERE async_account = ?", (async_account,)
    ).fetchone()
    conn.close()
    return dict(row) if row else None


def dump(ws: Workspace) -> list[str]:
    """Every table's content as SQL text, to prove a command changed nothing."""
    conn = sqlite3.connect(ws.store_path)
    lines = list(conn.iterdump())
    conn.close()
    return lines
