"""Every "next:" hint the repair and status commands print is a command that works then."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

from custsync_cli.store.summary import Thresholds, status_summary
from tests.helpers import Workspace, person
from tests.repair import scenarios as sc


def next_command(text: str) -> list[str]:
    """The command of the one hint in ``text``, without the leading ``custsync``."""
    (hint,) = [line for line in text.splitlines() if "custsync " in line]
    words = shlex.split(hint[hint.index("custsync ") :])
    assert words[0] == "custsync"
    return words[1:]


def test_the_edit_hint_resyncs_the_operation(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    edited = workspace.run(
        "edit", str(chain.create), "--set", "email=anna@example.se", "--reason", "typo"
    )
    assert edited.returncode == 0, edited.stderr
    command = next_command(edited.stdout)
    assert command == ["resync", str(chain.create)]
    done = workspace.run(*command)
    assert done.returncode == 0, done.stderr
    assert sc.operation(workspace, chain.create)["status"] == "synced"


def test_a_blocked_operation_points_at_what_it_waits_for(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    edited = workspace.run(
        "edit", str(chain.update), "--set", "phone=+46 70 555 99 99", "--reason", "new number"
    )
    assert edited.returncode == 0, edited.stderr
    assert "resync" not in edited.stdout
    command = next_command(edited.stdout)
    assert command == ["show", str(chain.create)]
    assert workspace.run(*command).returncode == 0


def test_the_bulk_edit_hint_names_the_operations_the_filters_no_longer_match(
    workspace: Workspace,
) -> None:
    web = workspace.channel("web-se")
    for n in range(3):
        guid = f"addr-{n}"
        web.add(guid, "create_customer", person(f"P{n}", "Lund", email=f"p{n}@example.se"))
        web.add(guid, "create_address", {"address_id": "A1", "street": "Gatan 1",
                                         "city": "Lund", "country": "SVE"})  # fmt: skip
    web.add("addr-9", "create_customer", person("Q", "Lund", email="q@example.se"))
    web.add("addr-9", "create_address", {"address_id": "A1", "street": "x" * 70,
                                         "city": "Lund", "country": "SVE"})  # fmt: skip
    sc.run_jobs(workspace)
    ids = sorted(sc.op_id(workspace, f"addr-{n}", "create_address") for n in range(3))
    edited = workspace.run(
        "edit", "--where", "country=SVE", "--set", "country=SWE", "--reason", "ISO", "--yes"
    )
    assert edited.returncode == 0, edited.stderr
    assert "3 would now pass, 1 would still fail" in edited.stdout
    command = next_command(edited.stdout)
    assert command == ["resync", *map(str, ids)]
    done = workspace.run(*command)
    assert done.returncode == 0, done.stderr
    assert all(sc.operation(workspace, op)["status"] == "synced" for op in ids)


def test_the_conflict_hint_after_a_resync_works(workspace: Workspace) -> None:
    case = sc.conflict(workspace)
    workspace.run("edit", str(case.older), "--set", "phone=+46 70 111 22 33", "--reason", "n")
    done = workspace.run("resync", str(case.older))
    assert done.returncode == 0, done.stderr
    assert "edit or --unset" not in done.stderr and "--force" not in done.stderr
    command = next_command(done.stderr)
    assert command == ["show", str(case.older)]
    shown = workspace.run(*command)
    assert shown.returncode == 0 and "maja.new@example.se" in shown.stdout


def test_the_forced_resync_the_dry_run_suggests_overwrites(workspace: Workspace) -> None:
    case = sc.conflict(workspace)
    workspace.run("edit", str(case.older), "--set", "phone=+46 70 111 22 33", "--reason", "n")
    preview = workspace.run("resync", str(case.older), "--dry-run")
    assert preview.returncode == 0, preview.stderr
    command = next_command(preview.stderr)
    assert command == ["resync", str(case.older), "--force"]
    done = workspace.run(*command)
    assert done.returncode == 0, done.stderr
    maja = sc.customer(workspace, sc.MAJA)
    assert maja is not None and maja["email"] == "maja.old@example.se"


def test_status_hints_all_run(workspace: Workspace) -> None:
    from custsync_cli.output.status import next_steps

    sc.failed_chain(workspace)
    conn = workspace.store()
    summary = status_summary(conn, Thresholds(), error_codes=5)
    conn.close()
    hints = next_steps(summary)
    assert len(hints) >= 2
    for hint in hints:
        words = shlex.split(hint)
        assert words[0] == "custsync"
        done = workspace.run(*words[1:])
        assert done.returncode == 0, (hint, done.stderr)


def test_the_demo_hints_run_as_printed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    env = ws.env()
    env.pop("CUSTSYNC_CONFIG")
    demo = ws.run("demo", "--dir", "demo", env=env)
    assert demo.returncode == 0, demo.stderr
    tried = demo.stdout[demo.stdout.index("Try next:\n") :].splitlines()[1:]
    export, *commands = [shlex.split(hint) for hint in tried]
    assert export[0] == "export" and export[1].startswith("CUSTSYNC_CONFIG=")
    env["CUSTSYNC_CONFIG"] = export[1].split("=", 1)[1]
    assert [words[1] for words in commands] == ["list", "show", "edit", "resync", "status"]
    op = commands[1][2]

    def status() -> str:
        conn = sqlite3.connect(tmp_path / "demo" / "custsync.db")
        (found,) = conn.execute("SELECT status FROM operations WHERE id = ?", (op,)).fetchone()
        conn.close()
        return str(found)

    assert status() == "failed"
    for words in commands:
        assert words[0] == "custsync"
        done = ws.run(*words[1:], env=env)
        assert done.returncode == 0, (words, done.stderr)
        if words[1] == "edit":
            assert words[2] == op
            assert f"operation {op} would now pass validation" in done.stdout
            assert next_command(done.stdout) == ["resync", op]
    assert status() == "synced"
