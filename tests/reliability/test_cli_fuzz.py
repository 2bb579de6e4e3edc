"""Random arguments and values thrown at the CLI: no traceback, a documented exit code."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Result, Workspace, address, person

Invoke = Callable[..., Result]
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 75}

COMMANDS = [
    [],
    ["list"],
    ["show"],
    ["status"],
    ["jobs"],
    ["audit"],
    ["audit", "verify"],
    ["customer", "show"],
    ["customer"],
    ["edit"],
    ["resync"],
    ["discard"],
    ["run-jobs"],
    ["backup"],
    ["load-ops"],
    ["no-such-command"],
]
OPTIONS = [
    "--status", "--channel", "--operation", "--since", "--until", "--customer-account",
    "--async-account", "--error", "--error-code", "--where", "--limit", "--offset",
    "--format", "--set", "--unset", "--reason", "--yes", "--dry-run", "--force", "--job",
    "--max-runs", "--wait", "--strict", "--database", "--db", "--config", "--actor",
    "-q", "-v", "--help", "--version", "--no-color",
]  # fmt: skip
VALUES = [
    "1", "2", "0", "-1", "999999", "1.5", "nan", "", " ", "failed", "pending", "synced",
    "json", "jsonl", "csv", "table", "all", "pull", "sync", "web-se", "email=x@example.se",
    "email=", "=", "country=XXX", "first_name=" + "A" * 300, "type=robot", "2026-11-20",
    "2026-13-45", "yesterday", "C000001", "'; DROP TABLE operations; --", "%", "_", "\x00",
    "é", "👍", "../../etc/passwd", "custsync.db", "copy.db", "--", "-",
]  # fmt: skip

# The shapes that once ended in "internal error": huge numbers, floats written as 1e20,
# times at the ends of the calendar, and durations longer than datetime can subtract.
EDGE_VALUES = [
    "99999999999999999999", "9223372036854775807", "9223372036854775808", "1e20", "1e400",
    "-0", "inf", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "0001-01-01", "9999-12-31", "99999999999999d", "36500d", "\x1b[2J", "\x1b]0;t\x07",
]  # fmt: skip

token = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(VALUES),
    st.sampled_from(EDGE_VALUES),
    st.text(max_size=12),
    st.integers(-(2**40), 2**40).map(str),
    st.integers(2**62, 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@pytest.fixture
def seeded(workspace: Workspace, cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("a-1", "create_address", address())
    web.add("a-2", "create_customer", person("Erik", "Lund", email="broken@"))
    web.add("a-2", "update_customer", {"phone": "+46 70 000 00 00"})
    web.add("a-3", "update_customer", {"phone": "+46 70 000 00 01"})
    assert cli("run-jobs").exit_code == 0
    return workspace


@settings(
    max_examples=int(os.environ.get("CUSTSYNC_FUZZ_EXAMPLES", "80")),
    deadline=None,
    derandomize="CUSTSYNC_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), args=st.lists(token, max_size=6))
def test_random_arguments_never_crash_the_cli(
    seeded: Workspace, cli: Invoke, command: list[str], args: list[str]
) -> None:
    if any("\x00" in a for a in args):
        args = [a.replace("\x00", "") for a in args]
    result = cli(*command, *args, input="")
    assert result.exit_code in DOCUMENTED_EXIT_CODES, (command, args, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, (command, args)
    assert "internal error" not in result.stderr, (command, args, result.stderr)


def _nested(depth: int, opener: str) -> str:
    closer = {"[": "]", "{a: ": "}"}[opener]
    return opener * depth + "1" + closer * depth


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines)


yaml_value = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.sampled_from(["1e20", "1.0e+20", ".nan", ".inf", "-.inf", "1e23", "0x7fffffff", "~"]),
    st.builds(_nested, st.integers(1, 50_000), st.sampled_from(["[", "{a: "])),
    st.text(max_size=8),
)
CONFIG_KEYS = [
    ("jobs", "batch_size"), ("jobs", "interval"), ("sequence", "width"), ("sequence", "last"),
    ("sequence", "first"), ("sequence", "name"), ("validation", "max_lengths"),
]  # fmt: skip


@settings(
    max_examples=int(os.environ.get("CUSTSYNC_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize="CUSTSYNC_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=st.sampled_from(CONFIG_KEYS),
    value=yaml_value,
    bomb=st.one_of(st.none(), st.integers(1, 10)),
    command=st.sampled_from([["status"], ["run-jobs"], ["list"]]),
)
def test_hostile_config_values_never_crash_the_cli(
    seeded: Workspace,
    cli: Invoke,
    key: tuple[str, str],
    value: str,
    bomb: int | None,
    command: list[str],
) -> None:
    section, name = key
    text = seeded.config_path.read_text(encoding="utf-8")
    text += f"{section}:\n  {name}: {value}\n" if bomb is None else _bomb(bomb) + "\n"
    hostile = seeded.root / "hostile.yaml"
    hostile.write_text(text, encoding="utf-8")
    result = cli("--config", str(hostile), *command, input="")
    assert result.exit_code in DOCUMENTED_EXIT_CODES, (key, value[:80], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr, (key, value[:80], result.stderr)
