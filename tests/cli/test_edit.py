"""``custsync edit``: --set/--unset, the $EDITOR flow, concurrent edits and bulk edits."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from custsync_cli.store.lock import run_lock
from tests.conftest import Invoke
from tests.helpers import Workspace, answer_on_terminal, custsync_executable, person
from tests.repair import scenarios as sc


def make_editor(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scripted $EDITOR: a Python script that gets the file to edit as its argument."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, subprocess, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        "seen = pathlib.Path(__file__).with_suffix('.seen')\n"
        "calls = seen.read_text().count('\\x00') if seen.exists() else 0\n"
        "with seen.open('a') as out:\n"
        "    out.write(text + '\\x00')\n" + textwrap.dedent(body),
        encoding="utf-8",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(scratch))
    shared = tmp_path / "tmp"
    shared.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    return script


def edit_files(tmp_path: Path) -> list[Path]:
    """The files in the private edit folder; nothing may reach the shared temporary folder."""
    assert list((tmp_path / "tmp").iterdir()) == []
    return list((tmp_path / "scratch" / "custsync").iterdir())


def seen_by_editor(script: Path) -> list[str]:
    return script.with_suffix(".seen").read_text().split("\x00")[:-1]


def test_set_validates_at_once_and_keeps_the_status(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli(
        "edit", str(chain.create), "--set", "email=anna@example.se", "--reason", "typo on phone"
    )
    assert result.exit_code == 0, result.stderr
    assert "email: 'anna.svensson@' -> 'anna@example.se'" in result.stdout
    assert f"operation {chain.create} would now pass validation" in result.stdout
    assert f"next: custsync resync {chain.create}" in result.stdout
    assert sc.operation(workspace, chain.create)["status"] == "failed"
    (event,) = sc.events(workspace, chain.create, "edited")
    assert event["actor"] == "tester" and event["details"]["reason"] == "typo on phone"


def test_json_output_says_why_it_would_still_fail(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    result = cli(
        "edit",
        str(chain.create),
        "--set",
        "email=erik.lund@example.se",
        "--unset",
        "phone",
        "--reason",
        "r",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert list(data) == [
        "id",
        "operation",
        "status",
        "version",
        "changed",
        "changes",
        "would_pass",
        "errors",
        "warnings",
        "waits_for",
        "conflicts",
        "dry_run",
    ]
    assert data["id"] == chain.create and data["operation"] == "create_customer"
    assert data["status"] == "failed" and data["changed"] is True
    assert data["version"] == sc.operation(workspace, chain.create)["version"]
    assert data["changes"] == [
        {"field": "email", "old": "anna.svensson@", "new": "erik.lund@example.se", "unset": False},
        {"field": "phone", "old": "+46 70 123 45 67", "new": None, "unset": True},
    ]
    assert data["would_pass"] is False
    assert data["errors"] == [
        {
            "field": "email",
            "code": "duplicate_email",
            "message": "email erik.lund@example.se is already used: possible duplicate of C000001",
        }
    ]


def test_bad_edits_are_refused_and_change_nothing(workspace: Workspace, cli: Invoke) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    unknown = cli("edit", str(chain.create), "--set", "colour=red", "--reason", "r")
    assert unknown.exit_code == 2
    assert "unknown field 'colour' for create_customer" in unknown.stderr
    assert "valid fields: type, first_name" in unknown.stderr
    address_field = cli("edit", str(chain.update), "--set", "city=Lund", "--reason", "r")
    assert address_field.exit_code == 2 and "update_customer" in address_field.stderr
    synced = cli("edit", str(chain.erik), "--set", "phone=+46 8 1", "--reason", "r")
    assert synced.exit_code == 1
    assert f"operation {chain.erik} is synced; only failed, blocked or pending" in synced.stderr
    no_reason = cli("edit", str(chain.create), "--set", "email=a@example.se")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    malformed = cli("edit", str(chain.create), "--set", "email", "--reason", "r")
    assert malformed.exit_code == 2 and "FIELD=VALUE" in malformed.stderr
    for extra in ([], ["--dry-run"]):
        empty = cli("edit", str(chain.create), "--set", "email=", "--reason", "r", *extra)
        assert empty.exit_code == 2, empty.stdout
        assert empty.stderr == (
            "custsync: error: --set email= has no value: use --unset email to remove a value\n"
        )
    missing = cli("edit", "999", "--set", "email=a@example.se", "--reason", "r")
    assert missing.exit_code == 3 and "no operation 999" in missing.stderr
    stale = cli(
        "edit", str(chain.create), "--set", "email=a@example.se", "--reason", "r",
        "--expect-version", "0",
    )  # fmt: skip
    assert stale.exit_code == 1 and "changed since you opened it" in stale.stderr
    neither = cli("edit", "--set", "email=a@example.se", "--reason", "r")
    assert neither.exit_code == 2 and "operation id" in neither.stderr
    both = cli("edit", str(chain.create), "--status", "failed", "--set", "email=a@x.se")
    assert both.exit_code == 2 and "not both" in both.stderr
    for result in (unknown, synced, no_reason, missing, stale, empty):
        assert "Traceback" not in result.stderr
    assert sc.dump(workspace) == before


def test_unset_is_how_an_unknown_channel_field_is_repaired(
    workspace: Workspace, cli: Invoke
) -> None:
    workspace.channel("web-se").add("odd-1", "create_customer", person(shoe_size="42"))
    sc.run_jobs(workspace)
    op = sc.op_id(workspace, "odd-1", "create_customer")
    assert sc.operation(workspace, op)["status"] == "failed"
    result = cli("edit", str(op), "--unset", "shoe_size", "--reason", "not an HQ field")
    assert result.exit_code == 0, result.stderr
    assert "shoe_size: '42' -> unset" in result.stdout
    assert "would now pass validation" in result.stdout
    assert sc.fields(workspace, op)["shoe_size"]["dropped"] == 1


def test_editor_applies_the_saved_document(
    workspace: Workspace, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    script = make_editor(
        tmp_path,
        """
        text = text.replace("email: anna.svensson@", "email: anna@example.se")
        text = text.replace("reason: ''", "reason: customer spelled it out")
        text = text.replace("  phone: +46 70 123 45 67\\n", "  customer_group: '007'\\n")
        path.write_text(text)
        """,
        monkeypatch,
    )
    result = cli("edit", str(chain.create))
    assert result.exit_code == 0, result.stderr
    (document,) = seen_by_editor(script)
    assert f"# Editing operation {chain.create}: create_customer" in document
    assert "# Current errors:" in document
    assert "#   email: email 'anna.svensson@' is not a valid address [invalid_email]" in document
    assert "# Other fields you can add: middle_name, organization_name" in document
    assert "email: 'anna.svensson@' -> 'anna@example.se'" in result.stdout
    assert "would now pass validation" in result.stdout
    values = sc.fields(workspace, chain.create)
    assert values["email"]["new_value"] == "anna@example.se"
    assert values["phone"]["dropped"] == 1
    assert values["customer_group"]["new_value"] == "007"
    (event,) = sc.events(workspace, chain.create, "edited")
    assert event["details"]["reason"] == "customer spelled it out"
    assert edit_files(tmp_path) == []


def test_editor_unchanged_cancels(
    workspace: Workspace, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    make_editor(tmp_path, "pass\n", monkeypatch)
    before = sc.dump(workspace)
    result = cli("edit", str(chain.create), "--reason", "just looking")
    assert result.exit_code == 0
    assert "edit cancelled" in result.stderr
    assert result.stdout == ""
    assert sc.dump(workspace) == before


def on_terminal(ws: Workspace, args: list[str], answers: list[tuple[bytes, bytes]]) -> bytes:
    """Run the installed custsync on a pseudo-terminal, answering each prompt in turn."""
    code, output = answer_on_terminal(ws, args, answers)
    return output + f"\nexit {code}".encode()


REOPEN = b"Reopen the editor to fix it? [Y/n]"


def test_editor_reopens_on_invalid_yaml_when_asked_on_a_terminal(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    script = make_editor(
        tmp_path,
        """
        if calls == 0:
            path.write_text(text + "  broken: [unclosed\\n")
        else:
            path.write_text(text.replace("reason: ''", "reason: fixed after two tries")
                            .replace("  broken: [unclosed\\n", "")
                            .replace("email: anna.svensson@", "email: anna@example.se"))
        """,
        monkeypatch,
    )
    output = on_terminal(workspace, ["edit", str(chain.create)], [(REOPEN, b"y\n")])
    assert output.endswith(b"exit 0"), output
    assert b"the edit cannot be saved: the file is not valid YAML" in output
    first, second = seen_by_editor(script)
    assert not first.startswith("# ERROR")
    assert second.startswith("# ERROR: the file is not valid YAML")
    assert second.count("# ERROR") == 1
    assert "broken: [unclosed" in second
    (event,) = sc.events(workspace, chain.create, "edited")
    assert event["details"]["reason"] == "fixed after two tries"
    assert sc.fields(workspace, chain.create)["email"]["new_value"] == "anna@example.se"


def test_declining_to_reopen_or_saving_unchanged_keeps_the_file(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    script = make_editor(
        tmp_path,
        """
        if calls == 0:
            path.write_text(text.replace("email: anna.svensson@", "email: anna@example.se"))
        """,
        monkeypatch,
    )
    before = sc.dump(workspace)
    unchanged = on_terminal(workspace, ["edit", str(chain.create)], [(REOPEN, b"y\n")])
    assert unchanged.endswith(b"exit 2"), unchanged
    assert b"saved unchanged with the error at its top; nothing was saved" in unchanged
    assert seen_by_editor(script)[1].startswith("# ERROR: give a reason")
    script.with_suffix(".seen").unlink()
    declined = on_terminal(workspace, ["edit", str(chain.create)], [(REOPEN, b"n\n")])
    assert declined.endswith(b"exit 2"), declined
    assert len(seen_by_editor(script)) == 1
    assert b"give a reason: it goes into the audit log; nothing was saved" in declined
    assert len(edit_files(tmp_path)) == 2
    assert sc.dump(workspace) == before


def test_an_editor_that_always_writes_garbage_is_not_reopened_off_a_terminal(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    script = make_editor(
        tmp_path,
        """
        path.write_text(text + f"  broken{calls}: [unclosed\\n")
        """,
        monkeypatch,
    )
    before = sc.dump(workspace)
    result = workspace.run("edit", str(chain.create), "--reason", "r", timeout=60)
    assert result.returncode == 2, result.stderr
    assert len(seen_by_editor(script)) == 1
    (kept,) = edit_files(tmp_path)
    (message,) = result.stderr.splitlines()
    assert "the file is not valid YAML" in message
    assert message.endswith(f"nothing was saved (your edits were kept in {kept})")
    assert kept.read_text().startswith("# ERROR: the file is not valid YAML")
    assert "broken0: [unclosed" in kept.read_text()
    assert sc.dump(workspace) == before


def test_giving_up_on_bad_yaml_keeps_the_edits_in_a_private_file(
    workspace: Workspace, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    script = make_editor(
        tmp_path,
        """
        if calls == 0:
            path.write_text(text.replace("email: anna.svensson@", "email: anna@example.se")
                            .replace("reason: ''", "reason: typo") + "  broken: [unclosed\\n")
        """,
        monkeypatch,
    )
    before = sc.dump(workspace)
    result = cli("edit", str(chain.create))
    assert result.exit_code == 2
    assert len(seen_by_editor(script)) == 1
    (kept,) = edit_files(tmp_path)
    (message,) = result.stderr.splitlines()
    assert message.endswith(f"nothing was saved (your edits were kept in {kept})")
    assert "email: anna@example.se" in kept.read_text()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert sc.dump(workspace) == before
    again = make_editor(
        tmp_path,
        """
        path.write_text(text.replace("email: anna.svensson@", "email: anna@example.se")
                        .replace("reason: ''", "reason: typo"))
        """,
        monkeypatch,
    )
    assert cli("edit", str(chain.create)).exit_code == 0
    assert again.exists()
    assert edit_files(tmp_path) == [kept], "a kept file outlives later edits; theirs go"


def test_editor_refuses_to_save_over_a_concurrent_edit(
    workspace: Workspace, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    make_editor(
        tmp_path,
        f"""
        import os
        env = dict(os.environ, CUSTSYNC_ACTOR="second-operator")
        done = subprocess.run(
            [{custsync_executable()!r}, "edit", "{chain.create}", "--set",
             "email=second@example.se", "--reason", "I was faster"],
            env=env, capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        path.write_text(text.replace("email: anna.svensson@", "email: first@example.se")
                        .replace("reason: ''", "reason: mine"))
        """,
        monkeypatch,
    )
    result = cli("edit", str(chain.create))
    assert result.exit_code == 1
    assert f"operation {chain.create} changed since you opened it" in result.stderr
    assert "nothing was saved" in result.stderr
    (kept,) = edit_files(tmp_path)
    assert f"your edit is kept in {kept}" in result.stderr
    assert "first@example.se" in kept.read_text()
    assert sc.fields(workspace, chain.create)["email"]["new_value"] == "second@example.se"
    (event,) = sc.events(workspace, chain.create, "edited")
    assert event["actor"] == "second-operator"


def test_editor_without_an_editor_and_terminal_is_refused(
    workspace: Workspace, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    result = cli("edit", str(chain.create))
    assert result.exit_code == 2 and "set $EDITOR" in result.stderr


def bad_countries(ws: Workspace, count: int) -> list[int]:
    web = ws.channel("web-se")
    for n in range(count):
        guid = f"addr-{n}"
        web.add(guid, "create_customer", person(f"P{n}", "Lund", email=f"p{n}@example.se"))
        web.add(guid, "create_address", {"address_id": "A1", "street": "Gatan 1",
                                         "city": "Lund", "country": "SVE"})  # fmt: skip
    sc.run_jobs(ws)
    return sorted(sc.op_id(ws, f"addr-{n}", "create_address") for n in range(count))


BULK = [
    "edit", "--status", "failed", "--error-code", "invalid_country", "--where", "country=SVE",
    "--set", "country=SWE", "--reason", "SVE is not a country code",
]  # fmt: skip


def test_bulk_edit_previews_and_refuses_without_confirmation(
    workspace: Workspace, cli: Invoke
) -> None:
    ids = bad_countries(workspace, 7)
    before = sc.dump(workspace)
    result = cli(*BULK)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "7 operation(s) match; the first ones:"
    header, *rows = lines[1:7]
    assert header.split() == ["id", "channel", "operation", "status", "country", "now",
                              "country", "new"]  # fmt: skip
    for op, row in zip(ids[:5], rows, strict=True):
        assert row.split() == [str(op), "web-se", "create_address", "failed", "'SVE'", "'SWE'"]
        assert row.index("'SVE'") == header.index("country now")
        assert row.index("'SWE'") == header.index("country new")
    assert "... and 2 more (--dry-run lists them all)" in result.stderr
    assert "add --yes" in result.stderr
    assert sc.dump(workspace) == before


def test_dry_run_shows_the_changes_and_verdict_and_saves_nothing(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    single = workspace.run(
        "edit", str(chain.create), "--set", "email=anna@example.se", "--reason", "r", "--dry-run"
    )
    assert single.returncode == 0, single.stderr
    assert f"would edit operation {chain.create} (create_customer, failed)" in single.stdout
    assert "email: 'anna.svensson@' -> 'anna@example.se'" in single.stdout
    assert f"operation {chain.create} would now pass validation" in single.stdout
    assert "next:" not in single.stdout
    assert "dry run: nothing was saved" in single.stderr
    as_json = workspace.run("edit", str(chain.create), "--set", "email=bad@", "--reason", "r",
                            "--dry-run", "--format", "json")  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["dry_run"] is True and data["would_pass"] is False and data["changed"] is True
    no_editor = workspace.run("edit", str(chain.create), "--reason", "r", "--dry-run")
    assert no_editor.returncode == 2 and "--dry-run needs --set" in no_editor.stderr
    assert sc.dump(workspace) == before


def test_bulk_dry_run_lists_every_match_and_the_verdict(workspace: Workspace) -> None:
    ids = bad_countries(workspace, 7)
    before = sc.dump(workspace)
    result = workspace.run(*BULK, "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "7 operation(s) match:"
    assert [line.split()[0] for line in lines[2:9]] == [str(op) for op in ids]
    assert lines[9] == "would edit 7 of 7 operation(s): 7 would now pass, 0 would still fail"
    assert "next:" not in result.stdout
    assert "dry run: nothing was saved" in result.stderr
    assert sc.dump(workspace) == before


def test_bulk_edit_with_yes_edits_each_with_its_own_event(
    workspace: Workspace, cli: Invoke
) -> None:
    ids = bad_countries(workspace, 3)
    result = cli(*BULK, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "edited 3 of 3 operation(s): 3 would now pass, 0 would still fail" in result.stdout
    events = sc.events(workspace, action="edited")
    assert sorted(e["operation_id"] for e in events) == ids
    assert all(e["details"]["reason"] == "SVE is not a country code" for e in events)
    for op in ids:
        assert sc.fields(workspace, op)["country"]["channel_value"] == "SVE"
        assert sc.fields(workspace, op)["country"]["new_value"] == "SWE"
    as_json = cli(*BULK, "--yes", "--format", "json")
    assert as_json.exit_code == 0 and as_json.json() == []
    assert "no failed, blocked or pending operation matches" in as_json.stderr


def test_bulk_edit_refusals(workspace: Workspace, cli: Invoke) -> None:
    bad_countries(workspace, 2)
    before = sc.dump(workspace)
    wrong_field = cli("edit", "--status", "failed", "--set", "email=x@example.se",
                      "--reason", "r", "--yes")  # fmt: skip
    assert wrong_field.exit_code == 2
    assert "unknown field 'email' for create_address" in wrong_field.stderr
    no_set = cli("edit", "--status", "failed", "--reason", "r", "--yes")
    assert no_set.exit_code == 2 and "--set" in no_set.stderr
    unknown_where = cli("edit", "--where", "colour=red", "--set", "city=x", "--reason", "r")
    assert unknown_where.exit_code == 2 and "valid fields" in unknown_where.stderr
    with run_lock(workspace.store_path, purpose="run-jobs"):
        locked = cli(*BULK, "--yes")
    assert locked.exit_code == 75 and f"pid {os.getpid()}" in locked.stderr
    assert sc.dump(workspace) == before


def test_bulk_edit_asks_on_a_terminal(workspace: Workspace) -> None:
    ids = bad_countries(workspace, 2)
    code, output = answer_on_terminal(workspace, list(BULK), [(b"[y/N]", b"y\n")])
    assert code == 0, output
    assert b"Edit these 2 operation(s)?" in output
    assert sorted(e["operation_id"] for e in sc.events(workspace, action="edited")) == ids


def test_bulk_edit_waits_for_the_lock(workspace: Workspace, cli: Invoke) -> None:
    import threading

    ids = bad_countries(workspace, 2)
    held = threading.Event()

    def hold() -> None:
        with run_lock(workspace.store_path, purpose="run-jobs"):
            held.set()
            threading.Event().wait(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    result = cli(*BULK, "--yes", "--wait", "10")
    holder.join()
    assert result.exit_code == 0, result.stderr
    assert sorted(e["operation_id"] for e in sc.events(workspace, action="edited")) == ids


def test_a_failing_or_missing_editor_saves_nothing(
    workspace: Workspace, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    make_editor(
        tmp_path,
        """
        path.write_text(text.replace("reason: ''", "reason: x").replace("anna.svensson@", "a@b.se"))
        sys.exit(3)
        """,
        monkeypatch,
    )
    failing = cli("edit", str(chain.create))
    assert failing.exit_code == 1
    assert "exited with status 3; nothing was saved" in failing.stderr
    (kept,) = edit_files(tmp_path)
    assert failing.stderr.rstrip().endswith(f"(your edits were kept in {kept})")
    assert "reason: x" in kept.read_text() and "a@b.se" in kept.read_text()
    kept.unlink()
    make_editor(tmp_path, "sys.exit(1)\n", monkeypatch)
    untouched = cli("edit", str(chain.create))
    assert untouched.exit_code == 1
    assert untouched.stderr.rstrip().endswith("exited with status 1; nothing was saved")
    assert edit_files(tmp_path) == []
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    missing = cli("edit", str(chain.create))
    assert missing.exit_code == 1 and "cannot start editor" in missing.stderr
    assert sc.dump(workspace) == before
    assert edit_files(tmp_path) == []


def test_bulk_verdict_judges_the_edited_operations_together_as_resync_does(
    workspace: Workspace,
) -> None:
    web = workspace.channel("web-se")
    for n in range(3):
        web.add(f"mail-{n}", "create_customer", person(f"P{n}", "Berg", email=f"p{n}@"))
    sc.run_jobs(workspace)
    ids = sorted(sc.op_id(workspace, f"mail-{n}", "create_customer") for n in range(3))
    args = ["edit", "--error-code", "invalid_email", "--set", "email=fixed@example.se",
            "--reason", "one address for all"]  # fmt: skip
    table = workspace.run(*args, "--dry-run")
    assert "3 of 3 operation(s): 1 would now pass, 2 would still fail" in table.stdout
    for extra in (["--dry-run"], ["--yes"]):
        result = workspace.run(*args, *extra, "--format", "json")
        assert result.returncode == 0, result.stderr
        verdicts = {row["id"]: row for row in json.loads(result.stdout)}
        assert [verdicts[i]["would_pass"] for i in ids] == [True, False, False]
        for later in ids[1:]:
            (error,) = verdicts[later]["errors"]
            assert error["code"] == "duplicate_email"
            assert error["message"].endswith(f"possible duplicate of operation {ids[0]}")
    resync = workspace.run("resync", *map(str, ids), "--format", "json")
    assert resync.returncode == 4, resync.stderr
    statuses = {row["id"]: row["status"] for row in json.loads(resync.stdout)["operations"]}
    assert [statuses[i] for i in ids] == ["synced", "failed", "failed"]
