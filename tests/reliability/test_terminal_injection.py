"""Channel data never reaches a terminal as control sequences, and never passes validation."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from custsync_cli.config import parse_config
from custsync_cli.domain.models import OperationType
from custsync_cli.domain.validation import Validator
from tests.helpers import Result, Workspace, person

Invoke = Callable[..., Result]

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
LINK = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
CSI8 = "\x9b31m"
RAW = ("\x1b", "\x07", "\x9b")
ASYNC = "evil" + TITLE


@pytest.fixture
def hostile(workspace: Workspace, cli: Invoke) -> int:
    fields = person(first="A" + CLEAR, last="B" + LINK, email="a" + CSI8 + "@example.se")
    fields["first_name"] = "A" + CLEAR  # person() lower-cases only the email
    workspace.channel("web-se").add(ASYNC, "create_customer", fields, created_by="u" + CLEAR)
    assert cli("run-jobs").exit_code == 0
    listed = json.loads(cli("list", "--format", "json").stdout)
    return int(listed[0]["id"])


def assert_inert(result: Result, *, quotes_value: bool = True) -> None:
    for char in RAW:
        assert char not in result.stdout + result.stderr, (char, result.stdout)
    if quotes_value:
        assert "\\x1b" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "quotes_value"),
    [
        (["show", "{op}"], True),
        (["list"], True),
        (["list", "--wide"], True),
        (["audit", "--op", "{op}"], False),
        (["customer", "show", ASYNC], True),
        (["edit", "{op}", "--set", "first_name=Anna", "--reason", "fix"], True),
        (["edit", "{op}", "--set", "phone=+46701234567", "--reason", "fix"], False),
    ],
)
def test_every_human_readable_output_shows_control_characters_as_escapes(
    hostile: int, cli: Invoke, args: list[str], quotes_value: bool
) -> None:
    result = cli(*[a.replace("{op}", str(hostile)) for a in args])
    assert result.exit_code in (0, 4), result.stderr
    assert_inert(result, quotes_value=quotes_value)


def test_a_failing_create_says_which_code_point_without_the_value(
    hostile: int, cli: Invoke
) -> None:
    detail = json.loads(cli("show", str(hostile), "--format", "json").stdout)
    codes = {(e["field"], e["code"]) for e in detail["errors"]}
    assert {("first_name", "control_character"), ("last_name", "control_character")} <= codes
    assert ("email", "control_character") in codes
    messages = " ".join(e["message"] for e in detail["errors"])
    assert "U+001B" in messages and "U+009B" in messages
    assert "owned" not in messages and "evil.example" not in messages


def test_json_keeps_the_exact_value_escaped_by_json(hostile: int, cli: Invoke) -> None:
    out = cli("show", str(hostile), "--format", "json").stdout
    for char in RAW:
        assert char not in out
    detail = json.loads(out)
    assert detail["async_account"] == ASYNC
    values = {f["name"]: f["channel_value"] for f in detail["fields"]}
    assert values["first_name"] == "A" + CLEAR
    assert values["email"] == "a" + CSI8 + "@example.se"


def test_csv_keeps_exact_values_in_a_pipe_and_escapes_them_on_a_terminal(
    hostile: int, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    piped = cli("list", "--format", "csv").stdout
    assert ASYNC in piped
    from custsync_cli.output import render

    monkeypatch.setattr(render, "stdout_is_terminal", lambda: True)
    shown = cli("list", "--format", "csv")
    assert_inert(shown)


def test_validation_refuses_c0_del_and_c1_but_not_tabs() -> None:
    validator = Validator(parse_config({"channels": []}, None).validation)
    base = {"type": "person", "first_name": "Anna", "last_name": "Svensson"}
    for char in ("\x00", "\x1b", "\n", "\r", "\x7f", "\x85", "\x9b"):
        errors = validator.check(
            OperationType.CREATE_CUSTOMER,
            "create_customer",
            {**base, "first_name": f"An{char}na"},
            None,
        )
        assert [(e.field, e.code) for e in errors] == [("first_name", "control_character")]
    fine = {**base, "first_name": "An\tna", "last_name": "Ström ★"}
    assert validator.check(OperationType.CREATE_CUSTOMER, "create_customer", fine, None) == []
