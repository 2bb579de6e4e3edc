"""The fields-in-row migration: a store of per-field rows converts, data included, in one
transaction, and every --where and every field record reads the same afterwards."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from custsync_cli.filter_set import INDEXED_FIELDS
from custsync_cli.store.database import open_store
from custsync_cli.store.filters import FieldMatch, OperationFilter
from custsync_cli.store.migrations import MIGRATIONS, schema_version
from custsync_cli.store.operations import field_values, load_operations
from custsync_cli.store.queries import matching_ids
from tests.helpers import Workspace

BEFORE = MIGRATIONS.index(next(m for m in MIGRATIONS if m.__name__ == "m005_fields_in_row"))
NAMES = ("email", "phone", "first_name", "last_name", "city", "loyalty_tier", "street")
VALUES = ("anna@example.se", "Göteborg", 'say "hi"', "back\\slash", "50%_off", "", "Ö", "x\ny")
OLD_SQL = {
    False: "SELECT operation_id FROM operation_fields WHERE name = ? AND new_value = ?"
    " AND dropped = 0",
    True: "SELECT operation_id FROM operation_fields WHERE name = ? AND dropped = 0"
    " AND new_value LIKE ? ESCAPE '\\'",
}


def like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def old_store(path: Path, operations: int, seed: int) -> None:
    """A store at the schema before the migration, filled with per-field rows of every kind:
    sent, edited, dropped, added by an operator, with old values and kept conflicts."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, migration in enumerate(MIGRATIONS[:BEFORE], start=1):
        migration(conn)
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, 't')", (version, migration.__name__)
        )
    for op_id in range(1, operations + 1):
        conn.execute(
            "INSERT INTO operations (id, channel, replication_counter, operation, async_account,"
            " status, timestamp, pulled_at, updated_at) VALUES (?, 'web-se', ?,"
            " 'create_customer', ?, 'synced', ?, 't', 't')",
            (op_id, op_id, f"guid-{op_id % 7}", f"2026-01-01T00:{op_id % 60:02d}:00Z"),
        )
        for name in rng.sample(NAMES, rng.randint(0, 5)):
            sent = rng.choice((*VALUES, None, f"v{rng.randint(0, 9)}"))
            kind = rng.choice(("sent",) * 5 + ("edited", "dropped", "added"))
            new = rng.choice(VALUES) if kind in ("edited", "added") else sent
            conn.execute(
                "INSERT INTO operation_fields (operation_id, name, channel_value, new_value,"
                " old_value, edited, dropped, conflict_with) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    op_id,
                    name,
                    None if kind == "added" else sent,
                    new,
                    rng.choice((None, None, "old", "Ö")),
                    int(kind != "sent"),
                    int(kind == "dropped"),
                    rng.choice((None,) * 6 + (op_id + 1,)),
                ),
            )
    conn.close()


def old_records(path: Path) -> dict[int, list[dict[str, object]]]:
    conn = sqlite3.connect(path)
    found: dict[int, list[dict[str, object]]] = {
        int(row[0]): [] for row in conn.execute("SELECT id FROM operations")
    }
    for row in conn.execute(
        "SELECT operation_id, name, channel_value, new_value, old_value, edited, dropped,"
        " conflict_with FROM operation_fields ORDER BY operation_id, name"
    ):
        found[row[0]].append(
            {
                "name": row[1],
                "channel_value": row[2],
                "new_value": row[3],
                "old_value": row[4],
                "edited": bool(row[5]),
                "dropped": bool(row[6]),
                "conflict_with": row[7],
            }
        )
    conn.close()
    return found


def matches() -> list[FieldMatch]:
    return [
        FieldMatch(name, value, contains)
        for name in NAMES
        for value in (*VALUES, "v3", "e", "o")
        for contains in (False, True)
    ]


def old_answers(path: Path) -> dict[FieldMatch, set[int]]:
    conn = sqlite3.connect(path)
    answers = {
        m: {
            int(row[0])
            for row in conn.execute(
                OLD_SQL[m.contains], (m.name, like(m.value) if m.contains else m.value)
            )
        }
        for m in matches()
    }
    conn.close()
    return answers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_store_of_field_rows_migrates_and_answers_the_same(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "custsync.db"
    old_store(path, 400, seed)
    records, answers = old_records(path), old_answers(path)
    assert sum(bool(ids) for ids in answers.values()) > 50, "the data set must match something"
    with open_store(path) as store:
        conn = store.conn
        assert schema_version(conn) == len(MIGRATIONS)
        assert not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'operation_fields'"
        ).fetchone()
        for op_id, expected in records.items():
            assert field_values(conn, op_id).records() == expected, op_id
        for op in load_operations(conn, list(records)):
            assert op.values == {
                r["name"]: r["new_value"] for r in records[op.id] if not r["dropped"]
            }
        for match, expected_ids in answers.items():
            found = matching_ids(conn, OperationFilter(where=[match]))
            assert set(found) == expected_ids, match
            assert len(found) == len(expected_ids)
        indexes = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {f"operations_{name}" for name in INDEXED_FIELDS} <= indexes


def test_the_installed_command_lists_the_same_after_the_migration(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.write_config()
    old_store(ws.store_path, 120, 4)
    answers = old_answers(ws.store_path)
    for match in (FieldMatch("city", "Göteborg"), FieldMatch("email", "e", True)):
        text = f"{match.name}{'~' if match.contains else '='}{match.value}"
        done = ws.run("list", "--where", text, "--all", "--format", "json")
        assert done.returncode == 0, done.stderr
        assert {op["id"] for op in json.loads(done.stdout)} == answers[match]
        assert answers[match]


def test_a_crash_before_the_commit_leaves_the_old_store_whole(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.write_config()
    old_store(ws.store_path, 60, 5)
    records = old_records(ws.store_path)
    crashed = ws.run("run-jobs", env={**ws.env(), "CUSTSYNC_FAULT": "migrate.before_commit:1"})
    assert crashed.returncode == 99
    assert old_records(ws.store_path) == records
    conn = sqlite3.connect(ws.store_path)
    assert schema_version(conn) == BEFORE
    conn.close()
    done = ws.run("run-jobs")
    assert done.returncode == 0, done.stderr
    with open_store(ws.store_path) as store:
        for op_id, expected in records.items():
            assert field_values(store.conn, op_id).records() == expected


def test_the_migration_is_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "custsync.db"
    old_store(path, 10, 6)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    MIGRATIONS[BEFORE](conn)
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM operation_fields").fetchone()[0] > 0
    assert "new_values" not in {r[1] for r in conn.execute("PRAGMA table_info(operations)")}
    conn.close()
