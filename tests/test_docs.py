"""The operator docs stay true: help on every command, the generated reference, the code table."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from custsync_cli.devtools.docs_gen import (
    reference,
    root_command,
    visible_params,
    walk,
    with_error_codes,
)
from custsync_cli.domain.codes import CODES, markdown_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "custsync_cli"
REGENERATE = "python -m custsync_cli.devtools.docs_gen > docs/reference.md"


def test_every_command_has_help_with_an_example_and_every_option_has_help() -> None:
    missing: list[str] = []
    commands = list(walk(root_command()))
    assert len(commands) >= 15
    for path, command in commands:
        name = " ".join(path)
        help_text = command.help or ""
        if not help_text.strip():
            missing.append(f"{name}: no help")
        is_group = bool(getattr(command, "commands", None))
        if not is_group and "Example" not in help_text:
            missing.append(f"{name}: no example in the help")
        for param in visible_params(command):
            if not (param.help or "").strip():
                missing.append(f"{name} {param.name}: no help")
    for param in visible_params(root_command()):
        if not (param.help or "").strip():
            missing.append(f"global {param.name}: no help")
    assert missing == []


def test_help_groups_commands_into_panels() -> None:
    panels = {name: sub.rich_help_panel for name, sub in root_command().commands.items()}
    assert panels["list"] == panels["show"] == panels["status"] == "Audit"
    assert panels["edit"] == panels["resync"] == panels["discard"] == "Repair"
    assert panels["run-jobs"] == panels["jobs"] == "Jobs"
    assert panels["init"] == panels["demo"] == "Setup"
    assert list(dict.fromkeys(panels.values())) == ["Audit", "Repair", "Jobs", "Setup"]


def test_reference_is_generated_from_the_help_and_up_to_date() -> None:
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    for path, _ in walk(root_command()):
        heading = f"### `custsync {' '.join(path)}`"
        assert heading in committed, f"{heading} missing from docs/reference.md; run {REGENERATE}"
    assert committed == reference(), f"docs/reference.md is out of date; run {REGENERATE}"
    generated = subprocess.run(
        [sys.executable, "-m", "custsync_cli.devtools.docs_gen"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert generated.stdout == committed


def _emitted_codes() -> tuple[set[str], list[re.Pattern[str]]]:
    """Error-code literals the code base emits, and patterns for codes built by f-strings."""
    literals: set[str] = set()
    patterns: list[re.Pattern[str]] = []

    def record(node: ast.expr | None) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = [
                re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+"
                for v in node.values
            ]
            patterns.append(re.compile("^" + "".join(parts) + "$"))

    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "FieldError" and len(node.args) > 1:
                    record(node.args[1])
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        record(keyword.value)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code":
                        record(value)
    return literals, patterns


def test_every_error_code_in_the_code_base_is_in_the_catalogue() -> None:
    literals, patterns = _emitted_codes()
    assert {"required", "too_long", "sequence_exhausted", "malformed_row"} <= literals
    assert literals - set(CODES) == set(), "add these codes to custsync_cli/domain/codes.py"
    for pattern in patterns:
        assert any(pattern.match(code) for code in CODES), f"no catalogued code fits {pattern}"
    stale = {
        code for code in CODES if code not in literals and not any(p.match(code) for p in patterns)
    }
    assert stale == set(), "catalogued codes that nothing emits any more"
    for entry in CODES.values():
        assert entry.summary and entry.cause and entry.fix, entry.code


def test_runbook_error_table_is_the_catalogue() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    fix = "run: python -m custsync_cli.devtools.docs_gen --runbook docs/runbook.md"
    assert markdown_table() in runbook, f"the runbook's error codes are out of date; {fix}"
    assert with_error_codes(runbook) == runbook, fix
    for code in CODES:
        assert f"| `{code}` |" in runbook


def test_readme_keeps_the_set_up_commands_first_then_the_tour() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    assert blocks[0].strip() == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && custsync demo"
    )
    assert blocks[1].strip() == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest -q"
    )
    tour = readme[readme.index("## Five-minute tour") :]
    steps = ["custsync list --status failed", "custsync show", "custsync edit", "custsync resync"]
    positions = [tour.index(step) for step in [*steps, "custsync status"]]
    assert positions == sorted(positions)


def _commands_in_docs(text: str) -> set[str]:
    """The command names after ``custsync`` (and its global options) in code in ``text``."""
    code = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text)
    takes_value = {"--config", "--db", "--actor"}
    found: set[str] = set()
    for snippet in code:
        for match in re.finditer(r"(?:^|[\s/])custsync((?: +\S+)+)", snippet, flags=re.M):
            tokens = match.group(1).split()
            while tokens and tokens[0].startswith("-"):
                tokens = tokens[2:] if tokens[0] in takes_value else tokens[1:]
            if tokens and re.fullmatch(r"[a-z][a-z-]*", tokens[0]):
                found.add(tokens[0])
    return found


def test_docs_name_only_real_commands() -> None:
    real = set(root_command().commands)
    for path in (ROOT / "README.md", ROOT / "docs" / "runbook.md", ROOT / "docs" / "repair.md"):
        named = _commands_in_docs(path.read_text(encoding="utf-8"))
        assert named - real == set(), f"{path.name} names commands that do not exist"
    runbook = _commands_in_docs((ROOT / "docs" / "runbook.md").read_text(encoding="utf-8"))
    assert {"status", "jobs", "run-jobs", "list", "show", "edit", "resync", "backup"} <= runbook


def test_the_readme_tour_leaves_no_untracked_files_in_a_checkout() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (or no git): nothing can show untracked files")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "custsync demo --dir demo" in readme
    for path in ("demo/custsync.yaml", "demo/custsync.db", "demo/channels/web-se.db"):
        result = subprocess.run(
            [git, "check-ignore", "--quiet", path], cwd=ROOT, check=False, capture_output=True
        )
        assert result.returncode == 0, f"{path} is not ignored by .gitignore"
    tracked = subprocess.run(
        [git, "ls-files", "--", "demo"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert tracked.stdout == ""
