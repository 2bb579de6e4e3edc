"""Migration m006 keeps a log written in the old hash format verifiable, and appends in the new."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.devtools.soak import make_workload
from custsync_cli.domain.runs import JOB_ORDER
from custsync_cli.jobs.runner import run_jobs
from custsync_cli.store.audit import AuditEvent, append_events, chain_head, verify_chain
from custsync_cli.store.database import open_store
from custsync_cli.store.replay import verify_trail
from tests.reliability.legacy_audit import as_written_before_m006


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A store filled by the jobs, its audit log then put back in the pre-m006 form."""
    workload = make_workload(tmp_path, seed=5, operations=40, channels=2, batch_size=10)
    config = load_config(workload.config_path)
    with open_store(config.store, create=True) as opened:
        run_jobs(
            JobContext(config=config, store=opened, actor="t"),
            list(JOB_ORDER),
            list(config.channels),
        )
    as_written_before_m006(config.store).close()
    return config.store


def _columns(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return [str(row[1]) for row in conn.execute("PRAGMA table_info(audit_log)")]
    finally:
        conn.close()


def test_new_events_store_a_32_byte_hash_and_no_copy_of_the_previous(tmp_path: Path) -> None:
    workload = make_workload(tmp_path, seed=5, operations=20, channels=1, batch_size=10)
    config = load_config(workload.config_path)
    with open_store(config.store, create=True) as opened:
        run_jobs(
            JobContext(config=config, store=opened, actor="t"),
            list(JOB_ORDER),
            list(config.channels),
        )
        kinds = {
            tuple(r)
            for r in opened.conn.execute("SELECT typeof(hash), length(hash) FROM audit_log")
        }
        assert kinds == {("blob", 32)}
        assert verify_trail(opened.conn).ok
    assert "prev_hash" not in _columns(config.store)


def test_the_migration_keeps_old_events_verifiable_and_appends_new_ones(legacy: Path) -> None:
    assert "prev_hash" in _columns(legacy)
    before = sqlite3.connect(legacy)
    old_head = chain_head(before)
    before.close()
    with open_store(legacy) as opened:
        conn = opened.conn
        assert "prev_hash" not in _columns(legacy)
        assert verify_trail(conn, expect=old_head).ok
        conn.execute("BEGIN IMMEDIATE")
        append_events(conn, [AuditEvent("watermark_reset", "t", "2026-01-01T00:00:00Z")] * 3)
        conn.execute("COMMIT")
        kinds = [r[0] for r in conn.execute("SELECT typeof(hash) FROM audit_log ORDER BY id")]
        assert kinds == ["text"] * old_head[0] + ["blob"] * 3
        # The witness of the old head, the anchors and the job runs' heads all still hold.
        result = verify_chain(conn, expect=old_head)
        assert result.ok and result.events == old_head[0] + 3
        assert verify_chain(conn, expect=chain_head(conn)).ok


@pytest.mark.parametrize(
    ("statement", "bad"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE id = {last_old} - 5", -5),
        ("UPDATE audit_log SET details = '{{\"x\":1}}' WHERE id = {last_old} + 2", 2),
        ("UPDATE audit_log SET hash = lower(hex(hash)) WHERE id = {last_old} + 2", 2),
        ("DELETE FROM audit_log WHERE id = {last_old}", 0),
    ],
    ids=["old-event-edited", "new-event-edited", "new-event-in-old-format", "boundary-removed"],
)
def test_tampering_on_either_side_of_the_format_change_is_named(
    legacy: Path, statement: str, bad: int
) -> None:
    with open_store(legacy) as opened:
        last_old = chain_head(opened.conn)[0]
        opened.conn.execute("BEGIN IMMEDIATE")
        append_events(opened.conn, [AuditEvent("watermark_reset", "t", "2026-01-01T00:00:00Z")] * 3)
        opened.conn.execute("COMMIT")
    conn = sqlite3.connect(legacy, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(statement.format(last_old=last_old))
    result = verify_chain(conn)
    assert (result.ok, result.bad_event_id) == (False, last_old + bad)
