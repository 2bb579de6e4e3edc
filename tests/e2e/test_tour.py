"""The README's five-minute tour, run command by command against a fresh demo."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.helpers import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")]


def tour_steps() -> list[tuple[list[str], list[str]]]:
    """(commands, expected output lines) per step, from the tour's sh and text blocks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## Five-minute tour") :]
    tour = tour[: tour.index("\n## ")] if "\n## " in tour else tour
    steps: list[tuple[list[str], list[str]]] = []
    for kind, body in re.findall(r"```(sh|text)\n(.*?)```", tour, flags=re.S):
        lines = [line for line in body.splitlines() if line.strip()]
        if kind == "sh":
            commands = [line.split("  #")[0].strip() for line in lines]
            steps.append((commands, []))
        else:
            steps[-1][1].extend(lines)
    return steps


def test_the_readme_tour_works_as_written(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    env = ws.env(COLUMNS="200")
    env.pop("CUSTSYNC_CONFIG")
    steps = tour_steps()
    assert len(steps) >= 5
    for commands, expected in steps:
        output = ""
        for command in commands:
            if command.startswith("custsync demo"):
                demo = command.split(" && ")[0]
                env["CUSTSYNC_CONFIG"] = str(tmp_path / "demo" / "custsync.yaml")
                command = demo
            args = shlex.split(command)
            assert args[0] == "custsync"
            result = ws.run(*args[1:], env=env)
            assert result.returncode == 0, f"{command}: {result.stderr}"
            assert "Traceback" not in result.stderr
            output += result.stdout + result.stderr
        got = [_cells(line) for line in output.splitlines()]
        for line in expected:
            assert _cells(line) in got, f"README shows {line!r}; the commands printed:\n{output}"
