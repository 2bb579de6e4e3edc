"""--format: each command takes only the formats it prints, in help, completion and parsing."""

from __future__ import annotations

import pytest

from custsync_cli.errors import ExitCode
from custsync_cli.output.render import ROW_FORMATS, TABLE_OR_JSON, OutputFormat
from tests.cli.test_completion import complete
from tests.helpers import Workspace

ROWS = ["table", "json", "jsonl", "csv", "tsv"]
COMMANDS = [
    ("list", ROWS),
    ("show 1", ["table", "json"]),
    ("customer show C000001", ["table", "json"]),
    ("audit", ROWS),
    ("status", ["table", "json"]),
    ("jobs", ROWS),
    ("run-jobs", ["text", "json"]),
    ("backup copy.db", ["text", "json"]),
    ("edit 1", ["table", "json"]),
    ("resync 1", ["table", "json"]),
    ("discard 1", ["table", "json"]),
]


@pytest.mark.parametrize(("command", "valid"), COMMANDS)
def test_a_command_refuses_every_format_it_does_not_print(
    workspace: Workspace, command: str, valid: list[str]
) -> None:
    listed = ", ".join(f"'{name}'" for name in valid)
    for fmt in [f.value for f in OutputFormat if f.value not in valid]:
        refused = workspace.run(*command.split(), "--format", fmt)
        assert refused.returncode == ExitCode.USAGE, (command, fmt, refused.stderr)
        assert refused.stdout == ""
        errors = [line for line in refused.stderr.splitlines() if "--format" in line]
        assert len(errors) == 1, refused.stderr
        assert f"'{fmt}' is not one of {listed}." in errors[0], errors[0]
        assert "Traceback" not in refused.stderr
    assert not workspace.store_path.exists(), "a refused command must change nothing"


@pytest.mark.parametrize(("command", "valid"), COMMANDS)
def test_completion_offers_only_the_commands_formats(
    workspace: Workspace, command: str, valid: list[str]
) -> None:
    assert complete(workspace, f"custsync {command} --format ") == valid
    assert complete(workspace, f"custsync {command} --format j") == [
        name for name in valid if name.startswith("j")
    ]


def test_formats_parse_their_own_and_refuse_the_rest() -> None:
    assert ROW_FORMATS("jsonl") is OutputFormat.jsonl
    assert TABLE_OR_JSON(OutputFormat.json) is OutputFormat.json
    with pytest.raises(ValueError, match=r"^'csv' is not one of 'table', 'json'\.$"):
        TABLE_OR_JSON("csv")
