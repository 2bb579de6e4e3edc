"""What ``run-jobs`` and ``status`` print for cron (no terminal) and for people (a terminal)."""

from __future__ import annotations

import os
import pty
import re
import subprocess

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
