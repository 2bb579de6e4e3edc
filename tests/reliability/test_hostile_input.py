"""Hostile and broken input changes nothing and explains itself in one line, without a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custsync_cli.config import ChannelConfig
from custsync_cli.devtools.invariants import check_invariants
from custsync_cli.store import database
from tests.helpers import Result, Workspace, custsync_executable, person

Invoke = Callable[..., Result]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(result: Result | subprocess.CompletedProcess[str], code: int) -> None:
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("custsync: error:"), result.stderr


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 this is a zip file, not a database" * 40)


def _no_outbox(path: Path) -> None:
    _sql(path, "DROP TABLE async_customer_operation")


def _missing_column(path: Path) -> None:
    _sql(path, "ALTER TABLE async_customer_operation DROP COLUMN created_at")


def _trigger(path: Path) -> None:
    _sql(
        path,
        "CREATE TRIGGER spy AFTER INSERT ON customer BEGIN"
        " DELETE FROM async_customer_operation; END",
    )


def _view(path: Path) -> None:
    _sql(path, "CREATE VIEW peek AS SELECT * FROM async_customer_operation")


def _bad_customer_table(path: Path) -> None:
    _sql(path, "DROP TABLE customer", "CREATE TABLE customer (async_account TEXT)")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\0" * 50)


HOSTILE = {
    "not SQLite": (_not_sqlite, "not SQLite"),
    "no outbox table": (_no_outbox, "async_customer_operation is missing"),
    "missing column": (_missing_column, "lacks column(s) created_at"),
    "trigger": (_trigger, "triggers or views (spy)"),
    "view": (_view, "triggers or views (peek)"),
    "wrong customer table": (_bad_customer_table, "customer lacks column(s)"),
    "truncated": (_truncated, "channel bad"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_channel_is_skipped_named_and_untouched_while_others_proceed(
    kind: str, workspace: Workspace, cli: Invoke
) -> None:
    good = workspace.channel("good")
    good.add("a-1", "create_customer", person())
    bad = workspace.channel("bad")
    bad.add("b-1", "create_customer", person("Erik", "Lund"))
    spoil, reason = HOSTILE[kind]
    spoil(bad.path)
    before = _digest(bad.path)

    result = cli("run-jobs", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = result.json()
    assert reason in report["skipped_channels"]["bad"]
    assert "bad" in report["skipped_channels"]["bad"]
    assert report["outcome"] == "partial"
    assert _digest(bad.path) == before
    assert not Path(f"{bad.path}-journal").exists()
    store = workspace.store()
    assert [r[0] for r in store.execute("SELECT DISTINCT channel FROM operations")] == ["good"]
    assert (
        store.execute("SELECT count(*) FROM channel_watermarks WHERE channel = 'bad'").fetchone()[0]
        == 0
    )
    pull = store.execute(
        "SELECT outcome, skipped_channels FROM job_runs WHERE job = 'pull'"
    ).fetchone()
    store.close()
    assert pull["outcome"] == "partial" and "bad" in json.loads(pull["skipped_channels"])
    assert good.customers()["a-1"]["customer_account"] is not None
    plain = cli("run-jobs")
    assert "skipped channel(s): bad" in plain.stderr


def test_bad_rows_are_reported_one_by_one_and_the_rest_of_the_channel_goes_on(
    workspace: Workspace, cli: Invoke
) -> None:
    web = workspace.channel("web-se")
    first = web.add("ok-1", "create_customer", person("Anna", "Berg"))
    bad = {
        web.add("x-1", "create_customer", "{not json"): ("fields", "malformed_row"),
        web.add("x-2", "create_customer", "[1, 2]"): ("fields", "malformed_row"),
        web.add("x-3", "create_customer", '"a string"'): ("fields", "malformed_row"),
        web.add("x-4", "merge_customers", person()): ("operation", "invalid_operation"),
        web.add("", "create_customer", person("Per", "Holm")): ("async_account", "malformed_row"),
        web.add("x-6", "create_customer", person(email={"a": 1})): ("email", "invalid_value"),
        web.add("x-7", "create_customer", person(), created_at="yesterday"): (
            "created_at",
            "malformed_row",
        ),
    }
    last = web.add("ok-2", "create_customer", person("Eva", "Lund"))

    result = cli("run-jobs", "--format", "json")

    assert result.exit_code == 0, result.stderr
    assert result.json()["malformed"] == len(bad)
    store = workspace.store()
    rows = {
        r["replication_counter"]: r
        for r in store.execute("SELECT id, replication_counter, status FROM operations")
    }
    for counter, expected in bad.items():
        assert rows[counter]["status"] == "failed"
        codes = store.execute(
            "SELECT field, code FROM operation_errors WHERE operation_id = ?",
            (rows[counter]["id"],),
        ).fetchall()
        assert expected in [tuple(c) for c in codes], (counter, codes)
    assert rows[first]["status"] == rows[last]["status"] == "synced"
    store.close()
    assert cli("run-jobs", "--strict").exit_code == 0


def test_a_corrupt_store_is_refused_and_left_as_it_was(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    workspace.store_path.write_bytes(b"garbage " * 1000)
    before = _digest(workspace.store_path)
    assert workspace.run("run-jobs").returncode == 1  # the installed command, once
    for args in (("run-jobs",), ("status",), ("list",), ("backup", "copy.db")):
        result = cli(*args)
        _one_line_error(result, 1)
        assert str(workspace.store_path.name) in result.stderr
    assert _digest(workspace.store_path) == before
    assert not (workspace.root / "copy.db").exists()


def test_a_damaged_store_fails_with_one_line(workspace: Workspace, cli: Invoke) -> None:
    web = workspace.channel("web-se")
    for n in range(30):
        web.add(f"a-{n}", "create_customer", person(email=f"p{n}@example.se"))
    assert cli("run-jobs").exit_code == 0
    data = bytearray(workspace.store_path.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data), page * 3):
        data[offset : offset + 64] = os.urandom(64)
    workspace.store_path.write_bytes(bytes(data))
    result = cli("list", "--format", "json")
    _one_line_error(result, 1)


def test_a_missing_store_is_not_created_by_read_commands(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se")
    for args in (("list",), ("status",), ("show", "1"), ("audit", "verify"), ("backup", "b.db")):
        result = cli(*args)
        _one_line_error(result, 3)
        assert not workspace.store_path.exists()
        assert not (workspace.root / "b.db").exists()


@pytest.mark.parametrize(
    ("text", "code", "needle"),
    [
        ("store: [unclosed\n", 2, "custsync.yaml"),
        ("store: x.db\nchannels: []\ncolour: red\n", 2, "colour"),
        ("- just\n- a list\n", 2, "custsync.yaml"),
        ("store: x.db\nchannels:\n  - name: web\n", 2, "database"),
        ("store: x.db\njobs:\n  batch_size: -3\n", 2, "batch_size"),
    ],
)
def test_a_malformed_config_is_one_line_and_exit_2(
    workspace: Workspace, cli: Invoke, text: str, code: int, needle: str
) -> None:
    workspace.config_path.write_text(text, encoding="utf-8")
    result = cli("run-jobs")
    _one_line_error(result, code)
    assert needle in result.stderr
    assert not (workspace.root / "x.db").exists()


def test_unknown_operation_and_field_change_nothing(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person(email="broken@"))
    assert cli("run-jobs").exit_code == 0
    store = workspace.store()
    events = store.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    store.close()
    _one_line_error(cli("show", "999"), 3)
    _one_line_error(cli("edit", "999", "--set", "email=a@b.se", "--reason", "r"), 3)
    unknown = cli("edit", "1", "--set", "shoe_size=44", "--reason", "r")
    assert unknown.exit_code in (1, 2) and "Traceback" not in unknown.stderr
    assert "shoe_size" in unknown.stderr
    store = workspace.store()
    assert store.execute("SELECT count(*) FROM audit_log").fetchone()[0] == events
    store.close()


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder another user can enter (pytest's own temp folders are private)."""
    path = Path(tempfile.mkdtemp(prefix="custsync-ro-"))
    path.chmod(0o755)
    yield path
    path.chmod(0o755)
    shutil.rmtree(path)


def _without_root_powers(args: list[str]) -> list[str]:
    """As root, drop the capabilities that ignore file modes, so a 0555 folder is read-only."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot be enforced")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "--", *args]


def test_a_read_only_folder_is_one_line_and_nothing_is_written(open_dir: Path) -> None:
    workspace = Workspace(open_dir)
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    workspace.write_config()

    def run_jobs() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _without_root_powers([custsync_executable(), "run-jobs"]),
            cwd=open_dir,
            env=workspace.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    open_dir.chmod(0o555)
    result = run_jobs()
    _one_line_error(result, 1)
    assert "custsync.db" in result.stderr
    assert sorted(p.name for p in open_dir.iterdir()) == ["channels", "custsync.yaml"]

    open_dir.chmod(0o755)
    assert run_jobs().returncode == 0
    web.add("a-2", "create_customer", person("Eva", "Lund"))
    before = _digest(workspace.store_path)
    open_dir.chmod(0o555)
    result = run_jobs()
    _one_line_error(result, 1)
    assert "read-only" in result.stderr
    assert _digest(workspace.store_path) == before


def test_a_full_disk_fails_the_batch_whole_and_a_later_run_completes(
    workspace: Workspace, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = workspace.channel("web-se")
    workspace.write_config(jobs={"batch_size": 25})
    web.add("seed-1", "create_customer", person(email="seed@example.se"))
    assert cli("run-jobs").exit_code == 0
    conn = sqlite3.connect(web.path)
    with conn:
        conn.executemany(
            "INSERT INTO async_customer_operation (async_account, operation, fields, created_at)"
            " VALUES (?, 'create_customer', ?, '2026-11-20T10:00:00Z')",
            [
                (f"bulk-{n}", json.dumps(person("Nils", "Holm", email=f"n{n}@example.se")))
                for n in range(400)
            ],
        )
    conn.close()
    real_open = database.open_store

    def small_disk(path: Path, *, create: bool = False, read_only: bool = False) -> database.Store:
        store = real_open(path, create=create, read_only=read_only)
        pages = store.scalar("PRAGMA page_count")
        store.conn.execute(f"PRAGMA max_page_count = {pages + 8}")
        return store

    monkeypatch.setattr(database, "open_store", small_disk)
    full = cli("run-jobs")
    _one_line_error(full, 1)
    assert "disk is full" in full.stderr
    monkeypatch.setattr(database, "open_store", real_open)

    channels = [ChannelConfig("web-se", web.path)]
    assert check_invariants(workspace.store_path, channels, complete=False) == []
    store = workspace.store()
    pulled = store.execute("SELECT count(*) FROM operations").fetchone()[0]
    store.close()
    assert (pulled - 1) % 25 == 0, "a batch was half-written"
    again = cli("run-jobs")
    assert again.exit_code == 0, again.stderr
    assert check_invariants(workspace.store_path, channels, complete=True) == []
