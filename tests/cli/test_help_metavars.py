"""`--help` of every command says what to type after each option, and nothing after a flag."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from custsync_cli.devtools.docs_gen import root_command, visible_params, walk
from tests.helpers import Workspace

TYPE_NAMES = ("<bool>", "<str>", "<int", "<float", "<path>", "<list", "[x>=", "<=x")
METAVAR = re.compile(r"[A-Z][A-Z0-9_]*(?:[=:~][A-Z][A-Z0-9_]*)?(?:\.\.\.)?")


def _commands() -> list[tuple[str, ...]]:
    return [(), *(path for path, _ in walk(root_command()))]


def _command(path: tuple[str, ...]) -> Any:
    command = root_command()
    for name in path:
        command = command.commands[name]
    return command


def _row_cells(help_text: str, name: str) -> list[str]:
    """The cells of the help table row that starts with ``name``, after the names."""
    for line in help_text.splitlines():
        cells = [c for c in re.split(r"\s{2,}", line.strip("│ \n").lstrip("* ")) if c]
        if cells and cells[0] == name:
            rest = cells[1:]
            while rest and re.fullmatch(r"-[a-z]", rest[0]):
                rest = rest[1:]
            return rest
    raise AssertionError(f"no row for {name} in:\n{help_text}")


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "custsync")
def test_help_shows_a_metavar_for_each_value_and_nothing_after_a_flag(
    tmp_path: Path, path: tuple[str, ...]
) -> None:
    result = Workspace(tmp_path).run(*path, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for type_name in TYPE_NAMES:
        assert type_name not in text, f"custsync {' '.join(path)} --help shows {type_name}"
    params = visible_params(_command(path))
    for param in params:
        if type(param).__name__.endswith("Argument"):
            assert METAVAR.fullmatch(_row_cells(text, param.metavar)[0]) is None
            continue
        long_name = next(opt for opt in param.opts if opt.startswith("--"))
        after = _row_cells(text, long_name)
        first_words = " ".join((param.help or "").split()[:2])
        if getattr(param, "is_flag", False):
            assert after[0].startswith(first_words), f"{long_name} shows {after[0]!r}"
        else:
            assert METAVAR.fullmatch(after[0]), f"{long_name} shows {after[0]!r}, not a metavar"
            assert after[1].startswith(first_words), after
    assert _row_cells(text, "--help")[0].startswith("Show this message")
