"""The example outputs in the operator docs are what the commands print on a real demo.

In docs/runbook.md, docs/reading.md and docs/repair.md, every ```text block that follows a
```sh block in the same section (no heading between them) is that block's output: the sh
commands run, in document order, against one fresh ``custsync demo`` per document, through
the installed command with a 200-column pipe, and the text block must equal their stdout and
stderr line for line (blank lines ignored). ```text blocks with no ```sh block before them in
their section show situations a demo does not have (a held lock, a cron log) and are not run.

Placeholders, applied to both sides, and nothing else: a date-time ``2026-11-26 23:56:55``
becomes ``<time>`` and a duration (``6d 14h``, ``0.3 s``) becomes ``<duration>``, because they
depend on when the test runs; whitespace around table cells and lines of only ``-`` and ``+``
(table rules, whose width follows the cells) are not compared.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.helpers import Workspace

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/runbook.md", "docs/reading.md", "docs/repair.md")
TIME = re.compile(r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?Z?")
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?[smhdw]\b(?: \d+[smhdw]\b)?")


def normalise(text: str) -> list[str]:
    """The comparable lines of an output: placeholders in, cells trimmed, rules and blanks out."""
    lines: list[str] = []
    for line in text.splitlines():
        line = DURATION.sub("<duration>", TIME.sub("<time>", line))
        if not line.strip() or re.fullmatch(r"[-+ ]+", line):
            continue
        lines.append(" | ".join(cell.strip() for cell in line.split("|")))
    return lines


def examples(doc: str) -> list[tuple[list[str], str]]:
    """(commands, expected output) for each ```text block that follows a ```sh block."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    found: list[tuple[list[str], str]] = []
    commands: list[str] | None = None
    for heading, kind, body in re.findall(r"^(#+ [^\n]*)$|^```(\w*)\n(.*?)^```", text, re.M | re.S):
        if heading:
            commands = None
        elif kind == "sh":
            joined = body.replace("\\\n", " ")
            commands = [line.split("  #")[0].strip() for line in joined.splitlines()]
            commands = [command for command in commands if command]
        elif kind == "text" and commands is not None:
            found.append((commands, body))
            commands = None
        else:
            commands = None
    return found


def test_the_docs_have_examples_to_check() -> None:
    assert len(examples("docs/runbook.md")) >= 1
    assert normalise("a  | 2026-11-26 23:56:55 | 0.1 s | 6d 14h\n----+--\n") == [
        "a | <time> | <duration> | <duration>"
    ]


@pytest.mark.parametrize("doc", [doc for doc in DOCS if examples(doc)])
def test_every_example_output_is_what_the_commands_print_on_a_demo(
    tmp_path: Path, doc: str
) -> None:
    ws = Workspace(tmp_path)
    env = ws.env(CUSTSYNC_CONFIG=str(tmp_path / "demo" / "custsync.yaml"))
    made = ws.run("demo", "--dir", "demo", env=env)
    assert made.returncode == 0, made.stderr
    for commands, expected in examples(doc):
        output = ""
        for command in commands:
            args = shlex.split(command)
            assert args[0] == "custsync", f"{doc}: only custsync commands can run: {command}"
            result = ws.run(*args[1:], env=env)
            assert "Traceback" not in result.stderr
            output += result.stdout + result.stderr
        assert normalise(output) == normalise(expected), (
            f"{doc} shows, after `{'; '.join(commands)}`:\n{expected}\n"
            f"the commands printed:\n{output}"
        )
