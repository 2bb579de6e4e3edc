"""Shared fixtures: a workspace with channel databases and an in-process CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custsync_cli.cli import run
from custsync_cli.output import console
from tests.helpers import Result, Workspace

Invoke = Callable[..., Result]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.chdir(tmp_path)
    for name in ("CUSTSYNC_CONFIG", "CUSTSYNC_DB", "CUSTSYNC_FAULT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTSYNC_ACTOR", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    ws = Workspace(tmp_path)
    ws.write_config()
    monkeypatch.setenv("CUSTSYNC_CONFIG", str(ws.config_path))
    yield ws


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run custsync in-process through the same entry point as the console script."""

    def invoke(*args: str, input: str | None = None) -> Result:
        import io
        import sys

        capsys.readouterr()
        console.set_no_color(False)
        if input is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(int(code), captured.out, captured.err)

    return invoke
