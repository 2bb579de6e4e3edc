"""The Typer-free parser of ``list`` and ``show``: it takes a line only when Typer would agree.

Whatever line the fast parser accepts, Typer must accept too and hand the command exactly
the same values; the lines it declines go to Typer. The app built for one command must
behave like the app with every command.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custsync_cli.cli import fast, read, state, typer_app
from custsync_cli.cli.filters import FilterOptions
from custsync_cli.output import console

GLOBALS = [
    ["--no-color"],
    ["--config", "other.yaml"],
    ["--config=inline.yaml"],
    ["--db", "x.db"],
    ["--db="],
    ["--actor", "me"],
    ["--actor=someone else"],
]
LIST_OPTIONS = [
    "--status", "--channel", "--operation", "--where", "--since", "--until",
    "--customer-account", "--async-account", "--error", "--error-code", "--limit", "--offset",
    "--format",
]  # fmt: skip
VALUES = [
    "failed", "pending", "0", "1", "2", "7", "50", "007", "-1", "+3", " 5", "1.5", "1_000",
    "123456789012345678", "1234567890123456789", "\u0661", "json", "jsonl", "csv", "table",
    "JSON", "Table", "email=a@example.se", "name~Ann", "", "2h", "-x", "--wide", "a=b=c", "é",
]  # fmt: skip
JUNK = ["--", "-h", "--help", "--bogus", "--wide=1", "--wide", "42", "-5", "list", "show"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Record what ``list`` and ``show`` are called with, instead of running them."""
    monkeypatch.setenv("CUSTSYNC_CONFIG", "env.yaml")
    monkeypatch.setenv("CUSTSYNC_ACTOR", "")  # empty: as if unset, for Click and for us
    monkeypatch.delenv("CUSTSYNC_DB", raising=False)
    monkeypatch.delenv(typer_app.COMPLETE_VAR, raising=False)
    recorded: list[dict[str, Any]] = []

    def recorder(real: Any) -> Any:
        def record(**kwargs: Any) -> None:
            bound = inspect.signature(real).bind(**kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            if "filters" in values:
                values["filters"] = values["filters"] or FilterOptions()
            recorded.append(
                {
                    "command": real.__name__,
                    **values,
                    "options": vars(state.options).copy(),
                    "no_color": console.color_disabled(),
                }
            )

        return record

    with (
        mock.patch.object(read, "list_operations", recorder(read.list_operations)),
        mock.patch.object(read, "show_operation", recorder(read.show_operation)),
    ):
        yield recorded
    state.options = state.GlobalOptions()
    console.set_no_color(False)


def both_parsers(argv: list[str], calls: list[dict[str, Any]]) -> tuple[Any, Any] | None:
    """What each parser handed the command, or None when the fast parser declined the line."""
    command = fast.parse(argv)
    if command is None:
        return None
    results = []
    for parse in ("fast", "typer"):
        calls.clear()
        state.options = state.GlobalOptions()
        console.set_no_color(False)
        if parse == "fast":
            code = command()
        else:
            result = typer_app.run(argv)
            code = result if isinstance(result, int) else 0
        assert code == 0
        assert len(calls) == 1, calls
        results.append(calls[0])
    return results[0], results[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["list", "--format", "json"],
        ["list", "--status", "failed", "--limit", "50", "--format", "json"],
        ["list", "--where", "email=a@example.se", "--format", "json"],
        ["list", "--status", "failed", "--status", "blocked", "--channel", "web-se", "--wide"],
        ["list", "--since", "2h", "--until", "", "--error", "zip", "--error-code", "x"],
        ["list", "--customer-account", "C000001", "--async-account", "g-1", "--operation", "o"],
        ["list", "--limit=1", "--offset=0", "--format=csv", "--where=a=b=c"],
        ["list", "--limit", "123456789012345678", "--offset", "9"],
        ["list", "--limit", "0", "--format", "tsv", "--no-headers"],
        ["list", "--all", "--format=csv", "--no-headers", "--wide"],
        ["--no-color", "--config", "c.yaml", "--db", "x.db", "--actor", "me", "list"],
        ["--config=", "--db=d.db", "list", "--format", "jsonl"],
        ["show", "42"],
        ["show", "0", "--format", "json"],
        ["show", "--format", "table", "7"],
        ["--actor", "me", "show", "42", "--format=json"],
        ["list", "--config", "c.yaml", "--db=x.db", "--no-color", "--actor", "me"],
        ["list", "--where", "note=--config", "--config=c.yaml", "--status", "failed"],
        ["--db", "x.db", "show", "42", "--config", "c.yaml"],
    ],
)
def test_fast_lines_give_the_commands_what_typer_gives(
    calls: list[dict[str, Any]], argv: list[str]
) -> None:
    outcome = both_parsers(argv, calls)
    assert outcome is not None, "the fast parser should take this line"
    ours, typers = outcome
    assert ours == typers


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["--version", "list"],
        ["list", "--help"],
        ["list", "-h"],
        ["list", "--limit", "007"],
        ["list", "--limit", "-1"],
        ["list", "--limit", "1.5"],
        ["list", "--limit", "\u0661"],
        ["list", "--limit", "1234567890123456789"],
        ["list", "--offset", "-1"],
        ["list", "--format", "JSON"],
        ["list", "--format", "xml"],
        ["list", "--limit", "2", "--limit", "3"],
        ["list", "--since", "1d", "--since", "2d"],
        ["list", "--wide", "--wide"],
        ["list", "--wide=1"],
        ["list", "--all", "--all"],
        ["list", "--no-headers=1"],
        ["list", "--status"],
        ["list", "--status", "-x"],
        ["list", "--", "--limit"],
        ["list", "--bogus"],
        ["list", "extra"],
        ["--no-color", "--no-color", "list"],
        ["--config", "a", "--config", "b", "list"],
        ["--config", "list"],
        ["--bogus", "list"],
        ["--config", "a", "list", "--config", "b"],
        ["list", "--no-color", "--no-color"],
        ["list", "--db", "--limit", "2"],
        ["show"],
        ["show", "-5"],
        ["show", "abc"],
        ["show", "1", "2"],
        ["show", "1", "--format", "jsonl"],
        ["show", "1", "--wide"],
        ["status"],
        ["customer", "show", "C000001"],
    ],
)
def test_lines_it_is_not_sure_of_go_to_typer(argv: list[str]) -> None:
    assert fast.parse(argv) is None


def test_shell_completion_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(typer_app.COMPLETE_VAR, "bash_complete")
    assert fast.parse(["list"]) is None
    assert fast.parse(["--version"]) is None
    assert typer_app.modules_for(["list"]) == typer_app.MODULES


# Mostly values an option could take, some it cannot, so that both kinds of line are drawn.
PLAUSIBLE = {
    "--limit": ["1", "50", "7", "0", "007", "-1"],
    "--offset": ["0", "3", "+3"],
    "--format": ["json", "jsonl", "csv", "tsv", "table", "JSON"],
    "--status": ["failed", "pending", ""],
    "--where": ["email=a@example.se", "name~Ann", "a=b=c"],
}
option_value = st.sampled_from(LIST_OPTIONS).flatmap(
    lambda option: st.tuples(st.just(option), st.sampled_from(PLAUSIBLE.get(option, VALUES)))
)
junk = st.one_of(st.sampled_from(JUNK), st.text(max_size=6)).map(lambda arg: [arg])
LIST_PIECE = st.one_of(
    option_value.map(list),
    option_value.map(list),
    option_value.map(lambda pair: [f"{pair[0]}={pair[1]}"]),
    st.sampled_from(
        [["--wide"], ["--all"], ["--no-headers"], ["--format", "json"], ["--status", "failed"]]
    ),
    st.sampled_from(GLOBALS),
    junk,
)
SHOW_PIECE = st.one_of(
    st.sampled_from([["42"], ["42"], ["0"], ["007"], ["--format", "json"], ["--format=table"]]),
    st.sampled_from(VALUES).map(lambda value: ["--format", value]),
    st.sampled_from(GLOBALS),
    junk,
)


@settings(
    max_examples=int(os.environ.get("CUSTSYNC_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize="CUSTSYNC_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prefix=st.lists(st.sampled_from(GLOBALS), max_size=3, unique_by=lambda o: o[0][:6]),
    command=st.sampled_from(["list", "show"]),
    data=st.data(),
)
def test_any_line_the_fast_parser_takes_typer_takes_the_same_way(
    calls: list[dict[str, Any]], prefix: list[list[str]], command: str, data: st.DataObject
) -> None:
    pieces = data.draw(st.lists(LIST_PIECE if command == "list" else SHOW_PIECE, max_size=4))
    argv = [arg for part in [*prefix, [command], *pieces] for arg in part]
    outcome = both_parsers(argv, calls)
    if outcome is not None:
        ours, typers = outcome
        assert ours == typers


def root_command(modules: tuple[str, ...] = typer_app.MODULES) -> Any:
    return typer.main.get_command(typer_app.make_app(modules))


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    assert set(typer_app.COMMANDS) == set(root_command().commands)
    for name, module in typer_app.COMMANDS.items():
        assert name in root_command((module,)).commands, f"{module} does not register {name}"


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["list", "--format", "json"], ("audit_cmds",)),
        (["--config", "list", "status"], ("status_cmds",)),
        (["--config=c.yaml", "--no-color", "edit", "1"], ("repair_cmds",)),
        (["--db", "x.db", "run-jobs"], ("jobs_cmds",)),
        (["--help"], typer_app.MODULES),
        (["--version"], typer_app.MODULES),
        (["lst"], typer_app.MODULES),
        ([], typer_app.MODULES),
        (["--", "list"], typer_app.MODULES),
    ],
)
def test_a_command_line_builds_only_the_module_it_needs(
    argv: list[str], modules: tuple[str, ...]
) -> None:
    assert typer_app.modules_for(argv) == modules


def test_the_app_of_one_module_behaves_like_the_whole_app(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")

    def output(app: typer.Typer, argv: list[str]) -> tuple[Any, str, str]:
        capsys.readouterr()
        try:
            result = app(args=argv, prog_name="custsync", standalone_mode=False)
        except Exception as exc:  # usage errors: compare their messages
            result = (type(exc).__name__, str(exc))
        captured = capsys.readouterr()
        return result, captured.out, captured.err

    full = typer_app.make_app()
    for name, module in typer_app.COMMANDS.items():
        alone = typer_app.make_app((module,))
        for argv in ([name, "--help"], [name, "--bogus"]):
            assert output(alone, argv) == output(full, argv), argv


def test_read_defaults_are_the_commands_defaults() -> None:
    root = root_command()
    for name, body in (("list", read.list_operations), ("show", read.show_operation)):
        defaults = {p.name: p.default for p in root.commands[name].params}
        for parameter in inspect.signature(body).parameters.values():
            if parameter.name in defaults and parameter.default is not inspect.Parameter.empty:
                assert parameter.default == defaults[parameter.name], (name, parameter.name)
