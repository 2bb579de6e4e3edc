"""render_rows: one way to print rows as a table, JSON, JSON lines or CSV for every command."""

from __future__ import annotations

import csv
import io
import json

import pytest

from custsync_cli.output import console, render
from custsync_cli.output.render import OutputFormat, render_rows

LONG = "street is 72 characters long; HQ allows at most 60 " + "x" * 120
ROWS = [
    {"id": 1, "status": "failed", "last_error": LONG, "tags": ["a", "b"], "ok": False},
    {"id": 2, "status": "synced", "last_error": None, "tags": [], "ok": True},
]
COLUMNS = [("id", "id"), ("status", "status"), ("last_error", "last error")]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 60-column terminal on stdout, with colour off."""
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(render, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(console, "stdout_is_terminal", lambda: True)
    console.set_no_color(False)
    yield
    console.set_no_color(False)


def test_json_jsonl_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    render_rows(ROWS, COLUMNS, OutputFormat.json)
    assert json.loads(capsys.readouterr().out) == ROWS
    render_rows(ROWS, COLUMNS, OutputFormat.jsonl)
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == ROWS
    render_rows(ROWS, [*COLUMNS, ("tags", "tags"), ("ok", "ok")], OutputFormat.csv)
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert parsed == [
        {"id": "1", "status": "failed", "last_error": LONG, "tags": '["a", "b"]', "ok": "false"},
        {"id": "2", "status": "synced", "last_error": "", "tags": "[]", "ok": "true"},
    ]


def test_table_on_a_terminal_shortens_to_the_width(
    terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    render_rows(ROWS, COLUMNS, OutputFormat.table)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "…" in out and LONG not in out
    assert len([line for line in lines if "failed" in line]) == 1
    assert "\x1b[" not in out


def test_wide_table_shows_long_values_whole(
    terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    render_rows(ROWS, COLUMNS, OutputFormat.table, wide=True)
    out = capsys.readouterr().out
    assert "…" not in out
    # At its natural width, past the terminal's edge: every row one line, every column whole.
    rows = [line for line in out.splitlines() if "failed" in line]
    assert len(rows) == 1 and LONG in rows[0]
    assert len([line for line in out.splitlines() if "synced" in line]) == 1


def test_piped_table_is_plain_one_line_per_row(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    console.set_no_color(False)
    render_rows(ROWS, COLUMNS, OutputFormat.table, wide=True)
    lines = capsys.readouterr().out.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["id", "status", "last error"]
    assert lines[1].startswith("---")
    assert [c.strip() for c in lines[2].split("|")] == ["1", "failed", LONG]
    assert [c.strip() for c in lines[3].split("|")] == ["2", "synced", ""]
    assert len(lines) == 4


def test_table_time_is_the_store_stamp_to_the_second() -> None:
    from custsync_cli.output.render import table_time

    assert table_time("2026-01-02T03:04:05.123456Z") == "2026-01-02 03:04:05"
    assert table_time("2026-01-02T03:04:05Z") == "2026-01-02 03:04:05"
    assert table_time(None) == ""
