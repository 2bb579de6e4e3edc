"""``custsync discard``: give up on operations, audited; nothing waits behind a discarded create."""

from __future__ import annotations

import json

import pytest

from custsync_cli.errors import ConflictError
from tests.conftest import Invoke
from tests.helpers import Result, Workspace, answer_on_terminal, person
from tests.repair import scenarios as sc


def test_discard_fails_what_waited_for_the_create(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli("discard", str(chain.create), "--reason", "test customer from training", "--yes")
    assert result.exit_code == 0, result.stderr
    assert f"discarded operation {chain.create} (create_customer, was failed)" in result.stdout
    assert f"operation {chain.update} failed: it waited for {chain.create}" in result.stdout
    discarded = sc.operation(workspace, chain.create)
    assert discarded["status"] == "discarded"
    assert discarded["discard_reason"] == "test customer from training"
    update = sc.operation(workspace, chain.update)
    assert update["status"] == "failed"
    assert f"operation {chain.create} (create_customer)" in update["last_error"]
    (event,) = sc.events(workspace, chain.create, "discarded")
    assert event["actor"] == "tester"
    assert event["details"] == {"reason": "test customer from training", "from_status": "failed"}
    listed = cli("list", "--error-code", "dependency_discarded", "--format", "json")
    assert [op["id"] for op in listed.json()] == [chain.update]


def test_discard_json_and_several_operations(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli(
        "discard", str(chain.update), str(chain.create), "--reason", "duplicate",
        "--format", "json", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json() == [
        {
            "id": chain.create,
            "operation": "create_customer",
            "previous_status": "failed",
            "status": "discarded",
            "failed_dependants": [],
            "dry_run": False,
        },
        {
            "id": chain.update,
            "operation": "update_customer",
            "previous_status": "blocked",
            "status": "discarded",
            "failed_dependants": [],
            "dry_run": False,
        },
    ]


def test_a_later_update_of_a_discarded_create_fails_on_the_next_run(
    workspace: Workspace, cli: Invoke
) -> None:
    chain = sc.failed_chain(workspace)
    assert cli("discard", str(chain.create), "--reason", "gone", "--yes").exit_code == 0
    workspace.channel("web-se").add(sc.ANNA, "update_customer", {"phone": "+46 8 55 66 77"})
    sc.run_jobs(workspace)
    late = sc.op_id(workspace, sc.ANNA, "update_customer", 1)
    assert sc.operation(workspace, late)["status"] == "failed"
    conn = workspace.store()
    (code,) = conn.execute(
        "SELECT code FROM operation_errors WHERE operation_id = ?", (late,)
    ).fetchone()
    conn.close()
    assert code == "dependency_discarded"


def test_discard_refusals_change_nothing(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)

    def discard(*args: str) -> Result:
        return cli("discard", *args, "--yes")

    synced = discard(str(chain.erik), "--reason", "no")
    assert synced.exit_code == 1
    assert f"operation {chain.erik} is synced" in synced.stderr
    no_reason = discard(str(chain.create))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    no_reason_dry = cli("discard", str(chain.create), "--dry-run")
    assert no_reason_dry.exit_code == 2 and "--reason" in no_reason_dry.stderr
    missing = discard("777", "--reason", "r")
    assert missing.exit_code == 3
    mixed = discard(str(chain.create), str(chain.erik), "--reason", "r")
    assert mixed.exit_code == 1
    not_a_number = discard("twelve", "--reason", "r")
    assert not_a_number.exit_code == 2
    nothing = discard("--reason", "r")
    assert nothing.exit_code == 2 and "give operation ids, or filters" in nothing.stderr
    both = discard(str(chain.create), "--status", "failed", "--reason", "r")
    assert both.exit_code == 2 and "not both" in both.stderr
    assert sc.dump(workspace) == before
    assert discard(str(chain.create), "--reason", "r").exit_code == 0
    again = discard(str(chain.create), "--reason", "r")
    assert again.exit_code == 1 and "is discarded" in again.stderr


def test_without_a_terminal_discard_needs_yes(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    refused = workspace.run("discard", str(chain.create), "--reason", "r", input="y\n")
    assert refused.returncode == 2
    assert refused.stdout == ""
    (message,) = refused.stderr.splitlines()
    assert "1 operation(s) would be discarded; add --yes" in message
    assert sc.dump(workspace) == before
    assert sc.events(workspace, action="discarded") == []
    done = workspace.run("discard", str(chain.create), "--reason", "r", "--yes")
    assert done.returncode == 0, done.stderr
    assert sc.operation(workspace, chain.create)["status"] == "discarded"
    assert sc.operation(workspace, chain.update)["status"] == "failed"


def test_dry_run_lists_what_would_be_discarded_and_fail(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    dry = workspace.run("discard", str(chain.create), "--reason", "r", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "1 operation(s) to discard:"
    assert lines[1].split() == ["id", "operation", "status", "channel", "last", "error"]
    assert lines[2].split()[:4] == [str(chain.create), "create_customer", "failed", "web-se"]
    assert lines[3] == "1 blocked operation(s) behind them will fail with dependency_discarded:"
    assert lines[4].split() == [str(chain.update), "waits", "for", str(chain.create)]
    assert "dry run: nothing was discarded" in dry.stderr
    as_json = workspace.run(
        "discard", str(chain.create), "--reason", "r", "--dry-run", "--format", "json"
    )
    assert as_json.returncode == 0, as_json.stderr
    (planned,) = json.loads(as_json.stdout)
    assert planned["failed_dependants"] == [chain.update] and planned["dry_run"] is True
    both = workspace.run(
        "discard", str(chain.create), str(chain.update), "--reason", "r", "--dry-run"
    )
    assert "blocked operation(s)" not in both.stdout
    assert sc.dump(workspace) == before


def test_filters_select_the_failed_operations_they_match(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    web = workspace.channel("web-se")
    web.add(sc.MAJA, "create_customer", person("Maja", "Berg", phone="12"))
    sc.run_jobs(workspace)
    maja = sc.op_id(workspace, sc.MAJA, "create_customer")
    assert sc.operation(workspace, maja)["status"] == "failed"
    dry = cli("discard", "--error-code", "invalid_email", "--reason", "r", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert [line.split()[0] for line in dry.stdout.splitlines()[2:3]] == [str(chain.create)]
    assert str(maja) not in dry.stdout.split()
    blocked = cli(
        "discard", "--status", "blocked", "--reason", "r", "--dry-run", "--format", "json"
    )
    assert [r["id"] for r in blocked.json()] == [chain.update]
    none = cli("discard", "--error-code", "too_long", "--reason", "r", "--yes")
    assert none.exit_code == 0 and "nothing discarded" in none.stderr
    done = cli("discard", "--error-code", "invalid_email", "--reason", "bad emails", "--yes")
    assert done.exit_code == 0, done.stderr
    assert sc.operation(workspace, chain.create)["status"] == "discarded"
    assert sc.operation(workspace, chain.update)["status"] == "failed"
    assert sc.operation(workspace, maja)["status"] == "failed"
    assert [e["operation_id"] for e in sc.events(workspace, action="discarded")] == [chain.create]


def _answer_on_a_terminal(ws: Workspace, answer: bytes, *args: str) -> tuple[int, bytes]:
    """Run the installed command on a pseudo-terminal and answer its [y/N] question."""
    return answer_on_terminal(ws, list(args), [(b"[y/N]", answer + b"\n")])


def test_on_a_terminal_discard_asks_first(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    args = ("discard", str(chain.create), "--reason", "training data")
    code, output = _answer_on_a_terminal(workspace, b"n", *args)
    assert code == 1, output
    assert b"1 operation(s) to discard:" in output
    assert b"will fail with dependency_discarded" in output
    assert b"nothing discarded" in output
    assert sc.dump(workspace) == before
    code, output = _answer_on_a_terminal(workspace, b"y", *args)
    assert code == 0, output
    assert f"discarded operation {chain.create}".encode() in output
    assert sc.operation(workspace, chain.create)["status"] == "discarded"
    assert sc.operation(workspace, chain.update)["status"] == "failed"


def test_a_store_that_changed_since_the_preview_is_refused(workspace: Workspace) -> None:
    from custsync_cli.repair.discard import discard, preview_discard

    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        shown = preview_discard(ctx, [chain.create])
        discard(ctx, [chain.update], "someone else")
        before = sc.dump(workspace)
        with pytest.raises(ConflictError):
            discard(ctx, [chain.create], "mine", previewed=shown)
    assert sc.dump(workspace) == before
