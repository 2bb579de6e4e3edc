"""Start-up: the installed command imports only what a command line needs, and `| head` is fine.

Each case runs the real console script in a fresh interpreter under ``python -X importtime``
and reads the modules it imported, so an eager import anywhere on the way fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import Shop
from tests.helpers import custsync_executable

# Never needed to print a version, the help, or what list and show read from the store.
NOT_FOR_READS = (
    "sqlite_utils",
    "faker",
    "phonenumbers",
    "pycountry",
    "email_validator",
    "langcodes",
    "custsync_cli.jobs",
    "custsync_cli.repair",
    "custsync_cli.channel_load",
    "custsync_cli.demo",
)
HEAVY = (*NOT_FOR_READS, "yaml")  # list and show read the config; --version and --help do not
# Typer, and the pydantic it converts option values with, cost more than the query itself.
PARSER = ("typer", "pydantic", "click")
TABLES = ("rich.table", "custsync_cli.output.listing", "custsync_cli.output.show")


def imported(shop: Shop, *args: str) -> set[str]:
    """The modules that ``custsync ARGS`` imports, run as a fresh process."""
    env = shop.workspace.env()
    env.pop("COLUMNS")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", custsync_executable(), *args],
        cwd=shop.workspace.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime output"
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


def loaded(modules: set[str], *packages: str) -> list[str]:
    """The modules of ``packages`` (a package or any module below it) that were imported."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_version_imports_no_parser_nor_output_library(shop: Shop) -> None:
    modules = imported(shop, "--version")
    assert loaded(modules, *HEAVY, *PARSER, "rich", "sqlite3", "custsync_cli.store") == []


def test_help_imports_typer_and_rich_but_no_command_work(shop: Shop) -> None:
    modules = imported(shop, "--help")
    assert "typer" in modules  # the help is Typer's, rendered with Rich (its own tables)
    forbidden = (*HEAVY, "pydantic", "click", "custsync_cli.store", "custsync_cli.domain")
    # Option bounds and choices: config's settings types and the job and outcome names, no rules.
    settings = {"custsync_cli.domain", "custsync_cli.domain.settings", "custsync_cli.domain.runs"}
    assert (
        loaded(
            modules - settings,
            *forbidden,
            "custsync_cli.output.listing",
            "custsync_cli.output.show",
        )
        == []
    )


def test_list_json_is_parsed_without_typer_and_printed_without_rich(shop: Shop) -> None:
    modules = imported(shop, "list", "--status", "failed", "--limit", "50", "--format", "json")
    assert loaded(modules, *NOT_FOR_READS, *PARSER, *TABLES, "rich") == []


def test_list_where_json_imports_no_validators_jobs_or_parser(shop: Shop) -> None:
    modules = imported(
        shop, "list", "--where", "email=anna.svensson@example.se", "--format", "json"
    )
    assert loaded(modules, *NOT_FOR_READS, *PARSER, *TABLES) == []


def test_show_json_imports_no_validators_jobs_or_parser(shop: Shop) -> None:
    modules = imported(shop, "show", str(shop.ids["anna_create"]), "--format", "json")
    assert loaded(modules, *NOT_FOR_READS, *PARSER, *TABLES) == []


@pytest.mark.parametrize(
    "args",
    [
        ["list"],  # parsed without Typer; Rich writes the table
        ["list", "--format", "json"],  # parsed without Typer; written when stdout is flushed
        ["list", "--format", "csv"],
        ["audit"],  # parsed by Typer, which turns a broken pipe into exit 1 on its own
        ["audit", "--format", "jsonl"],
        ["jobs", "--format", "json"],
    ],
)
def test_a_reader_that_goes_away_is_not_an_error(shop: Shop, args: list[str]) -> None:
    """`custsync list | head -1`: exit 0, nothing on stderr about the pipe, no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        result = subprocess.run(
            [custsync_executable(), *args],
            cwd=shop.workspace.root,
            env=shop.workspace.env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    for word in ("Traceback", "Broken pipe", "BrokenPipe", "Exception ignored", "error"):
        assert word not in result.stderr
