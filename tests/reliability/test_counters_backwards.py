"""A channel restored from an older backup stops the pull (exit 1) until an operator decides."""

from __future__ import annotations

import json
import shutil
import sqlite3

from tests.helpers import Workspace, person


def _one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("custsync: error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def _stored(workspace: Workspace, channel: str) -> list[int]:
    store = workspace.store()
    counters = [
        int(r[0])
        for r in store.execute(
            "SELECT replication_counter FROM operations WHERE channel = ? ORDER BY 1", (channel,)
        )
    ]
    store.close()
    return counters


def test_a_restored_channel_is_stopped_until_reset_and_nothing_is_lost(
    workspace: Workspace,
) -> None:
    web = workspace.channel("web-se")
    other = workspace.channel("store-042")
    for n in range(3):
        web.add(f"a-{n}", "create_customer", person(email=f"a{n}@example.se"))
    backup = workspace.root / "web-se.backup.db"
    shutil.copy(web.path, backup)
    for n in range(3, 5):
        web.add(f"a-{n}", "create_customer", person(email=f"a{n}@example.se"))
    assert workspace.run("run-jobs").returncode == 0
    assert _stored(workspace, "web-se") == [1, 2, 3, 4, 5]

    shutil.copy(backup, web.path)  # restored: counters end at 3, the watermark is 5
    other.add("s-1", "create_customer", person("Eva", "Lund"))
    below = workspace.run("run-jobs")
    assert below.returncode == 1
    line = _one_error_line(below.stderr)
    assert "web-se" in line and "highest counter (3) is below the watermark (5)" in line
    assert "reset-watermark web-se" in line
    assert _stored(workspace, "store-042") == [1]  # the other channel went on
    refused = workspace.run("channel", "reset-watermark", "web-se", "--reason", "restored")
    assert refused.returncode == 1 and "above 5 first" in _one_error_line(refused.stderr)

    # The channel writes two new rows: they reuse counters 4 and 5 with other rows.
    new = [web.add(f"n-{n}", "create_customer", person("Nils", "Holm", email=f"n{n}@x.se"))]
    new.append(web.add("n-2", "update_customer", {"phone": "+46 70 999 99 99"}))
    assert new == [4, 5]
    reused = workspace.run("run-jobs")
    assert reused.returncode == 1
    assert "the outbox row at counter 5 is not the row pulled there" in _one_error_line(
        reused.stderr
    )
    assert "Nils" not in reused.stderr and "999" not in reused.stderr
    assert _stored(workspace, "web-se") == [1, 2, 3, 4, 5]

    # The runbook's way out: the channel re-sends the rows above its numbering, then reset.
    conn = sqlite3.connect(web.path)
    with conn:
        conn.execute(
            "INSERT INTO async_customer_operation"
            " (async_account, operation, fields, created_at, created_by)"
            " SELECT async_account, operation, fields, created_at, created_by"
            " FROM async_customer_operation WHERE replication_counter > 3"
        )
    conn.close()
    no_reason = workspace.run("channel", "reset-watermark", "web-se")
    assert no_reason.returncode == 2 and "--reason" in _one_error_line(no_reason.stderr)
    reset = workspace.run(
        "channel", "reset-watermark", "web-se", "--reason", "restored backup; rows re-sent"
    )
    assert reset.returncode == 0, reset.stderr
    assert workspace.run("run-jobs").returncode == 0
    assert _stored(workspace, "web-se") == [1, 2, 3, 4, 5, 6, 7]
    store = workspace.store()
    event = store.execute(
        "SELECT actor, channel, details FROM audit_log WHERE action = 'watermark_reset'"
    ).fetchall()
    store.close()
    assert len(event) == 1 and event[0]["actor"] == "tester" and event[0]["channel"] == "web-se"
    details = json.loads(event[0]["details"])
    assert details["reason"] == "restored backup; rows re-sent" and details["watermark"] == 5
    assert workspace.run("audit", "verify").returncode == 0
    healthy = workspace.run("channel", "reset-watermark", "web-se", "--reason", "again")
    assert healthy.returncode == 2 and "nothing to reset" in _one_error_line(healthy.stderr)
