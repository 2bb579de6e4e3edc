"""Hostile outbox rows fail alone, by code, without customer values; the channel goes on."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.helpers import ChannelDB, Result, Workspace, person

Invoke = Callable[..., Result]

# Customer values of the hostile rows: none may reach an error message or the run record.
SECRETS = ("Lindstr", "karin.lindstrom@example.se", "701234599", "Hemlig")
LATIN1_FIELDS = json.dumps(
    person("Karin", "Lindström", email="karin.lindstrom@example.se", phone="+46 70 123 45 99"),
    ensure_ascii=False,
).encode("latin-1")
DEEP_FIELDS = '{"first_name": ' + "[" * 100_000 + "]" * 100_000 + "}"

# name -> (column, value written as is, expected (field, code)); values are SQL parameters,
# bytes wrapped in CAST(? AS TEXT) are TEXT that is not UTF-8.
ROW_SHAPES: dict[str, tuple[str, object, tuple[str, str]]] = {
    "created_at before year 1 in UTC": (
        "created_at",
        "0001-01-01T00:00:00+01:00",
        ("created_at", "malformed_row"),
    ),
    "created_at after year 9999 in UTC": (
        "created_at",
        "9999-12-31T23:59:59-01:00",
        ("created_at", "malformed_row"),
    ),
    "created_at a blob": ("created_at", b"\x00\x01", ("created_at", "malformed_row")),
    "fields nested 100000 deep": ("fields", DEEP_FIELDS, ("fields", "malformed_row")),
    "fields Latin-1, not UTF-8": ("fields", ("text", LATIN1_FIELDS), ("fields", "malformed_row")),
    "fields a blob": ("fields", LATIN1_FIELDS, ("fields", "malformed_row")),
    "fields with a lone surrogate": (
        "fields",
        '{"first_name": "Hemlig\\ud800"}',
        ("fields", "malformed_row"),
    ),
    "async_account Latin-1": (
        "async_account",
        ("text", "Lindström".encode("latin-1")),
        ("async_account", "malformed_row"),
    ),
    "operation a blob": ("operation", b"create_customer", ("operation", "malformed_row")),
    "created_by Latin-1": (
        "created_by",
        ("text", "Lindström".encode("latin-1")),
        ("created_by", "malformed_row"),
    ),
}


def add_hostile(channel: ChannelDB, column: str, value: object) -> int:
    """One outbox row, valid but for ``column``; return its counter."""
    row: dict[str, object] = {
        "async_account": "h-1",
        "operation": "create_customer",
        "fields": json.dumps(person("Hemlig", "Person")),
        "created_at": "2026-11-20T10:00:00Z",
        "created_by": "till-1",
    }
    row[column] = value
    names = ", ".join(row)
    marks = ", ".join("CAST(? AS TEXT)" if isinstance(v, tuple) else "?" for v in row.values())
    params = [v[1] if isinstance(v, tuple) else v for v in row.values()]
    conn = sqlite3.connect(channel.path)
    with conn:
        cursor = conn.execute(
            f"INSERT INTO async_customer_operation ({names}) VALUES ({marks})", params
        )
    conn.close()
    return int(cursor.lastrowid or 0)


def _errors(
    store: sqlite3.Connection, channel: str
) -> dict[int, tuple[str, list[tuple[str, str]]]]:
    result: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for op in store.execute(
        "SELECT id, replication_counter, status FROM operations WHERE channel = ?", (channel,)
    ):
        codes = store.execute(
            "SELECT field, code FROM operation_errors WHERE operation_id = ?", (op["id"],)
        ).fetchall()
        result[op["replication_counter"]] = (op["status"], [(c[0], c[1]) for c in codes])
    return result


def _no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_every_hostile_row_shape_fails_alone_and_the_channel_goes_on(
    workspace: Workspace,
) -> None:
    web = workspace.channel("web-se")
    other = workspace.channel("store-042")
    good = [web.add("ok-0", "create_customer", person("Anna", "Berg"))]
    expected: dict[int, tuple[str, str]] = {}
    for n, (column, value, error) in enumerate(ROW_SHAPES.values()):
        expected[add_hostile(web, column, value)] = error
        good.append(web.add(f"ok-{n + 1}", "create_customer", person(email=f"p{n}@example.se")))
    other_good = other.add("s-1", "create_customer", person("Eva", "Lund"))

    first = workspace.run("run-jobs")  # the installed command, as cron runs it

    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr and "internal error" not in first.stderr
    _no_secrets(first.stdout, first.stderr)
    store = workspace.store()
    ops = _errors(store, "web-se")
    for counter, error in expected.items():
        status, codes = ops[counter]
        assert status == "failed" and error in codes, (counter, codes)
    assert all(ops[c][0] == "synced" for c in good)
    assert _errors(store, "store-042")[other_good][0] == "synced"
    stored = " ".join(
        str(r[0]) for r in store.execute("SELECT message FROM operation_errors")
    ) + " ".join(str(r[0]) for r in store.execute("SELECT last_error FROM operations"))
    runs = " ".join(str(tuple(r)) for r in store.execute("SELECT * FROM job_runs"))
    _no_secrets(stored, runs)
    assert store.execute("SELECT count(*) FROM operations").fetchone()[0] == len(ops) + 1
    store.close()

    again = workspace.run("run-jobs", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert again.stdout and json.loads(again.stdout)["pulled"] == 0


def _loose_channel(path: Path, counters: list[object]) -> None:
    """An outbox that is not the contract's: its counter column takes any value."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "CREATE TABLE async_customer_operation (replication_counter, async_account TEXT,"
            " operation TEXT, fields TEXT, created_at TEXT, created_by TEXT)"
        )
        for n, counter in enumerate(counters):
            conn.execute(
                "INSERT INTO async_customer_operation VALUES (?, ?, 'create_customer', ?,"
                " '2026-11-20T10:00:00Z', 'till')",
                (counter, f"l-{n}", json.dumps(person("Hemlig", "Person", email=f"l{n}@x.se"))),
            )
    conn.close()


def test_counters_that_are_not_usable_integers_stall_nothing_and_are_reported(
    workspace: Workspace, cli: Invoke
) -> None:
    loose = workspace.channel("loose")
    loose.path.unlink()
    # rowids 1..9: 1 good, text, blob, 1e19 (a real), a real, 3 twice, 5 good, 0, NULL
    _loose_channel(loose.path, [1, "abc", b"\x01", 1e19, 2.5, 3, 3, 5, 0, None])
    web = workspace.channel("web-se")
    web_ok = web.add("ok-1", "create_customer", person("Anna", "Berg"))
    workspace.write_config(jobs={"batch_size": 2})

    result = cli("run-jobs", "--format", "json")

    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "partial"
    problem = report["unreadable_rows"]["loose"]
    assert "6 outbox row(s) have no usable replication counter" in problem
    for position in ("rowid 2 (text)", "rowid 3 (blob)", "rowid 4 (real)", "rowid 9 (integer)"):
        assert position in problem
    _no_secrets(result.stderr, problem)
    store = workspace.store()
    ops = _errors(store, "loose")
    assert sorted(ops) == [1, 3, 5]
    assert ops[1][0] == ops[5][0] == "synced"
    assert ops[3] == ("failed", [("replication_counter", "malformed_row")])
    assert _errors(store, "web-se")[web_ok][0] == "synced"
    recorded = store.execute(
        "SELECT outcome, unreadable_rows FROM job_runs WHERE job = 'pull'"
    ).fetchone()
    assert recorded["outcome"] == "partial"
    assert json.loads(recorded["unreadable_rows"]) == {"loose": problem}
    store.close()

    plain = cli("run-jobs")
    assert plain.exit_code == 0 and "loose: 6 outbox row(s)" in plain.stderr
    assert "unreadable rows in: loose" in plain.stderr
    # Unreadable rows make the run partial, and --strict turns a partial run into exit 1.
    assert cli("run-jobs", "--strict").exit_code == 1
    store = workspace.store()
    assert sorted(_errors(store, "loose")) == [1, 3, 5]
    store.close()


def test_a_negative_counter_in_a_contract_outbox_is_reported_by_position(
    workspace: Workspace, cli: Invoke
) -> None:
    web = workspace.channel("web-se")
    conn = sqlite3.connect(web.path)
    with conn:
        conn.execute(
            "INSERT INTO async_customer_operation VALUES"
            " (-4, 'n-1', 'create_customer', '{}', '2026-11-20T10:00:00Z', 'till')"
        )
    conn.close()
    web.add("ok-1", "create_customer", person())
    result = cli("run-jobs", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "rowid -4 (integer)" in result.json()["unreadable_rows"]["web-se"]
    assert result.json()["pulled"] == 1
