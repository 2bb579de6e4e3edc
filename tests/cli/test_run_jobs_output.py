"""What ``run-jobs`` and ``status`` print for cron (no terminal) and for people (a terminal)."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import sqlite3
import subprocess
from pathlib import Path

from tests.helpers import Workspace, custsync_executable, person

ANSI_STYLE = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    """SGR parameters that set a colour (NO_COLOR allows bold, italic and underline)."""
    found = []
    for match in ANSI_STYLE.finditer(text):
        for code in match.group(1).split(";"):
            if code.isdigit() and (30 <= int(code) <= 49 or 90 <= int(code) <= 107):
                found.append(code)
    return found


def run_on_terminal(ws: Workspace, *args: str, **env: str) -> tuple[int, str]:
    """Run the installed custsync with stdout and stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    environment = ws.env(TERM="xterm-256color", COLUMNS="120", LINES="40", **env)
    for name, value in env.items():
        if value == "":
            environment.pop(name, None)
    process = subprocess.Popen(
        [custsync_executable(), *args],
        cwd=ws.root,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def _channel_with_work(ws: Workspace) -> None:
    web = ws.channel("web-se")
    for i in range(30):
        web.add(f"a-{i}", "create_customer", person(f"Anna{i}", "Svensson"))
    web.add("bad", "create_customer", person("Erik", "Lund", email="erik@"))
    ws.channel("store-042").add("b-1", "create_customer", person("Karin", "Berg"))


def test_without_a_terminal_one_line_per_run_and_verbose_detail(workspace: Workspace) -> None:
    _channel_with_work(workspace)
    result = workspace.run("run-jobs", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("run-jobs ok: pulled 32, synced 31, failed 1, blocked 0")
    assert "  pull web-se: pulled 31" in lines
    assert "  pull store-042: pulled 1" in lines
    assert "  sync: processed 32" in lines
    assert "  distribute: distributed 31" in lines
    assert "\x1b[" not in result.stderr

    quiet = workspace.run("run-jobs", "-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    plain = workspace.run("run-jobs")
    assert plain.stderr.count("\n") == 1
    assert plain.stderr.startswith("run-jobs ok: pulled 0, synced 0")

    # The monitoring check as cron runs it: stdout one line, reasons on stderr, exit 4.
    check = workspace.run("status", "--check", "--max-run-age", "1h")
    assert check.returncode == 4
    assert (
        check.stdout == "custsync UNHEALTHY: needs attention: 1 failed operation(s) (allowed: 0)\n"
    )
    assert check.stderr == "unhealthy: 1 failed operation(s) (allowed: 0)\n"
    healthy = workspace.run("status", "--check", "--max-failed", "1")
    assert (healthy.returncode, healthy.stderr) == (0, "")


def test_failed_counts_operations_that_failed_at_pull_and_at_sync(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("bad-email", "create_customer", person("Erik", "Lund", email="erik@"))
    web.add("not-json", "create_customer", "{not json")
    web.add("unknown", "merge_customers", person("Karin", "Berg"))
    result = workspace.run("run-jobs")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("run-jobs ok: pulled 4, synced 1, failed 3, blocked 0")
    failed = workspace.run("list", "--status", "failed", "--format", "json")
    assert len(json.loads(failed.stdout)) == 3
    # The pull run's own record counts the two it failed; the line adds the sync's one.
    runs = {run["job"]: run for run in json.loads(workspace.run("jobs", "--format", "json").stdout)}
    assert (runs["pull"]["failed"], runs["sync"]["failed"]) == (2, 1)
    web.add("no-json-either", "create_customer", "[1, 2")
    as_json = json.loads(workspace.run("run-jobs", "--format", "json").stdout)
    assert (as_json["failed"], as_json["malformed"]) == (1, 1)


def test_on_a_terminal_a_progress_display_per_job(workspace: Workspace) -> None:
    _channel_with_work(workspace)
    code, raw = run_on_terminal(workspace, "run-jobs", "-v", NO_COLOR="")
    assert code == 0, raw
    assert colour_codes(raw), "colour is on without NO_COLOR"
    output = ANSI_STYLE.sub("", raw)
    assert re.search(r"done pull\s+32 ops\s+\d+ ops/s\s+0:00:0\d", output), output
    assert re.search(r"done sync\s+32 ops", output)
    assert re.search(r"done distribute\s+31 ops", output)
    assert re.search(r"pull web-se\s+31 ops", output)
    assert "run-jobs ok: pulled 32, synced 31, failed 1" in output

    json_run = run_on_terminal(workspace, "run-jobs", "--format", "json")[1]
    assert "ops/s" not in json_run and '"pulled": 0' in json_run
    assert run_on_terminal(workspace, "run-jobs", "-q") == (0, "")


def test_no_color_and_flag_drop_colour_on_a_terminal(workspace: Workspace) -> None:
    _channel_with_work(workspace)
    progress = run_on_terminal(workspace, "--no-color", "run-jobs", NO_COLOR="")[1]
    assert "run-jobs ok" in progress and "ops/s" in progress
    assert colour_codes(progress) == []
    coloured = run_on_terminal(workspace, "status", NO_COLOR="")[1]
    assert colour_codes(coloured)
    env_off = run_on_terminal(workspace, "status", NO_COLOR="1")[1]
    flag_off = run_on_terminal(workspace, "--no-color", "status", NO_COLOR="")[1]
    for output in (env_off, flag_off):
        assert "Operations per status and channel" in output
        assert "invalid_email" in output
        assert "next: custsync list --status failed; custsync show " in output
        assert colour_codes(output) == [], output


def _broken_channels(ws: Workspace) -> None:
    """web-se works; the other three are missing, corrupt and without an outbox table."""
    ws.channel("web-se").add("a-1", "create_customer", person())
    for name in ("gone", "corrupt", "no-outbox"):
        ws.channel(name)
    ws.channels["gone"].path.unlink()
    ws.channels["corrupt"].path.write_bytes(b"this is not a database\n" * 100)
    conn = sqlite3.connect(ws.channels["no-outbox"].path)
    conn.execute("DROP TABLE async_customer_operation")
    conn.commit()
    conn.close()


def test_a_partial_run_reaches_cron_even_with_quiet(workspace: Workspace) -> None:
    _broken_channels(workspace)
    quiet = workspace.run("run-jobs", "-q")
    assert quiet.returncode == 0
    assert quiet.stdout == ""
    assert quiet.stderr.count("\n") == 1, quiet.stderr
    assert quiet.stderr.startswith("run-jobs partial: pulled 1, synced 1")
    assert quiet.stderr.endswith("skipped channel(s): corrupt, gone, no-outbox\n")

    plain = workspace.run("run-jobs")
    assert plain.returncode == 0
    reasons = plain.stderr.splitlines()[1:]
    assert [line.split(":")[0] for line in reasons] == [
        "  skipped corrupt",
        "  skipped gone",
        "  skipped no-outbox",
    ]

    for args in (("--strict",), ("--strict", "-q")):
        strict = workspace.run("run-jobs", *args)
        assert strict.returncode == 1, (args, strict.stderr)
        assert strict.stderr.startswith("run-jobs partial: ")
        assert "Traceback" not in strict.stderr and "error" not in strict.stderr


def test_strict_a_skipped_channel_exits_1_over_failed_operations_4(workspace: Workspace) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person(email="broken@"))
    workspace.channel("gone").path.unlink()
    strict = workspace.run("run-jobs", "--strict", "-q")
    assert strict.returncode == 1, strict.stderr
    assert "failed 1" in strict.stderr and "skipped channel(s): gone" in strict.stderr
    workspace.channel("web-se").add("a-2", "create_customer", person(email="broken2@"))
    workspace.write_config(channels=[{"name": "web-se", "database": "channels/web-se.db"}])
    only_failed = workspace.run("run-jobs", "--strict", "-q")
    assert (only_failed.returncode, only_failed.stderr) == (4, "")


def test_run_jobs_refuses_a_format_it_cannot_print(workspace: Workspace) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person())
    for fmt in ("csv", "jsonl", "table"):
        refused = workspace.run("run-jobs", "--format", fmt)
        assert refused.returncode == 2, (fmt, refused.stderr)
        assert refused.stdout == ""
        assert "Invalid value for '--format'" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert not workspace.store_path.exists(), "a refused run must change nothing"
    text = workspace.run("run-jobs", "--format", "text")
    assert text.returncode == 0 and text.stderr.startswith("run-jobs ok: pulled 1")
    as_json = workspace.run("run-jobs", "--format", "json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["outcome"] == "ok"


def test_the_example_crontab_check_notices_that_cron_stopped(workspace: Workspace) -> None:
    crontab = Path(__file__).parents[2] / "examples" / "crontab"
    lines = [line for line in crontab.read_text().splitlines() if line and line[0] != "#"]
    check = next(line for line in lines if " status --check" in line)
    args = shlex.split(check.split(" status ", 1)[1].split(">")[0])
    assert args[0] == "--check"

    workspace.channel("web-se").add("a-1", "create_customer", person())
    assert workspace.run("run-jobs").returncode == 0
    assert workspace.run("status", *args).returncode == 0
    # The jobs last ran long ago and nothing has failed: only the run age tells.
    conn = workspace.store()
    conn.execute("UPDATE job_runs SET started_at = '2000-01-01T00:00:00.000000Z'")
    conn.commit()
    conn.close()
    stale = workspace.run("status", *args)
    assert stale.returncode == 4, stale.stderr
    assert "unhealthy: last pull run started " in stale.stderr
