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

token = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(VALUES),
    st.text(max_size=12),
    st.integers(-(2**40), 2**40).map(str),
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
