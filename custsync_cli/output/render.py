"""Render rows as a table, JSON, JSON lines or CSV, the same way for every command."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from custsync_cli.output.console import message, print_natural, stdout_console, stdout_is_terminal
from custsync_cli.output.visible import json_safe, visible

SHORT_COLUMN = 20
MIN_LONG = 24
# Piped, a long column is cut at a fixed width, the same whatever COLUMNS says; --wide keeps it.
PIPED_WIDTH = 160


class OutputFormat(StrEnum):
    """Every format custsync prints in; each command accepts its own ``Formats``."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    text = "text"


class Formats:
    """The formats one command prints: parses ``--format``, lists them for help and completion."""

    def __init__(self, *choices: OutputFormat) -> None:
        self.choices = choices

    def __call__(self, value: str) -> OutputFormat:
        for choice in self.choices:
            if choice.value == value:
                return choice
        # A ValueError is what the option parser reports as "Invalid value for '--format'".
        raise ValueError(
            f"{str(value)!r} is not one of {', '.join(map(repr, map(str, self.choices)))}."
        )

    def complete(self, incomplete: str) -> list[str]:
        return [choice.value for choice in self.choices if choice.value.startswith(incomplete)]


ROW_FORMATS = Formats(
    OutputFormat.table, OutputFormat.json, OutputFormat.jsonl, OutputFormat.csv, OutputFormat.tsv
)
TABLE_OR_JSON = Formats(OutputFormat.table, OutputFormat.json)
TEXT_OR_JSON = Formats(OutputFormat.text, OutputFormat.json)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent, default=str))


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def table_time(stamp: str | None, *, minutes: bool = False) -> str:
    """A store timestamp as tables show it: to the second (or, where space is short, the
    minute), a space for the "T", no zone."""
    return (stamp or "")[: 16 if minutes else 19].replace("T", " ")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return dumps(value, indent=None)
    return str(value)


def display(value: Any) -> str:
    """A cell as a person reads it: control characters written out, never sent as is."""
    return visible(cell(value))


def render_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    wide: bool = False,
    styles: dict[str, str] | None = None,
    headers: bool = True,
    drop_order: Sequence[str] = (),
) -> None:
    """Print ``rows``; ``columns`` are (key, heading) pairs for table, CSV and TSV."""
    if fmt is OutputFormat.json:
        print_json(list(rows))
    elif fmt is OutputFormat.jsonl:
        for row in rows:
            sys.stdout.write(dumps(row, indent=None) + "\n")
    elif fmt is OutputFormat.csv:
        write_csv(rows, [key for key, _ in columns], headers=headers)
    elif fmt is OutputFormat.tsv:
        write_tsv(rows, [key for key, _ in columns], headers=headers)
    else:
        print_table(
            rows,
            columns,
            title=title,
            wide=wide,
            styles=styles,
            headers=headers,
            drop_order=drop_order,
        )


def write_csv(rows: Iterable[dict[str, Any]], keys: Sequence[str], *, headers: bool = True) -> None:
    """CSV with exact values into a file or pipe; on a terminal, control characters escaped."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if headers:
        writer.writerow(keys)
    text = display if stdout_is_terminal() else cell
    for row in rows:
        writer.writerow([text(row.get(key)) for key in keys])


TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def write_tsv(rows: Iterable[dict[str, Any]], keys: Sequence[str], *, headers: bool = True) -> None:
    """One line per row, cells split by tabs; backslash, tab, newline and CR written as escapes."""
    shown = visible if stdout_is_terminal() else str
    if headers:
        sys.stdout.write("\t".join(keys) + "\n")
    for row in rows:
        cells = (shown(cell(row.get(key)).translate(TSV_ESCAPES)) for key in keys)
        sys.stdout.write("\t".join(cells))
        sys.stdout.write("\n")


def print_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    wide: bool = False,
    styles: dict[str, str] | None = None,
    headers: bool = True,
    drop_order: Sequence[str] = (),
) -> None:
    """A Rich table on a terminal; plain aligned columns without borders when piped.

    ``wide`` shows every value whole, at the table's natural width. Otherwise long columns
    are shortened to fit a terminal, and if that is not enough the columns in ``drop_order``
    give way, one after another, with a note on stderr that says which.
    """
    from rich import box
    from rich.table import Table

    console = stdout_console()
    terminal = stdout_is_terminal()
    hidden: list[str] = []
    if terminal and not wide and drop_order:
        columns, hidden = drop_to_fit(rows, columns, console.width, drop_order)
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD if terminal else box.ASCII2,
        show_edge=terminal,
        header_style="bold" if terminal else "",
        show_header=headers,
        pad_edge=False,
    )
    lengths = column_lengths(rows, columns)
    width = console.width if terminal else PIPED_WIDTH
    limits = fit_widths(lengths, width) if not wide else [None] * len(columns)
    for (key, heading), longest, limit in zip(columns, lengths, limits, strict=True):
        table.add_column(
            heading,
            no_wrap=True,
            overflow="ellipsis",
            style=(styles or {}).get(key),
            min_width=longest if longest <= SHORT_COLUMN or wide else None,
            max_width=limit,
        )
    for row in rows:
        table.add_row(*[style_cell(key, row.get(key)) for key, _ in columns])
    if wide:
        print_natural(table)
    else:
        console.print(table)
    say_hidden(hidden)


def column_lengths(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> list[int]:
    """The width each column needs to show its heading and every value whole."""
    return [
        max([len(heading), *(len(display(row.get(key))) for row in rows)])
        for key, heading in columns
    ]


def drop_to_fit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    width: int,
    drop_order: Sequence[str],
) -> tuple[list[tuple[str, str]], list[str]]:
    """The columns that fit ``width`` after dropping from ``drop_order``; the headings dropped.

    A long column counts as ``MIN_LONG``: shortened that far it still says something.
    """
    lengths = dict(zip((key for key, _ in columns), column_lengths(rows, columns), strict=True))

    def needed(kept: Sequence[tuple[str, str]]) -> int:
        return sum(
            min(lengths[key], MIN_LONG) if lengths[key] > SHORT_COLUMN else lengths[key]
            for key, _ in kept
        ) + 3 * len(kept)

    kept = list(columns)
    hidden: list[str] = []
    for key in drop_order:
        if needed(kept) <= width:
            break
        hidden += [heading for k, heading in kept if k == key]
        kept = [c for c in kept if c[0] != key]
    return kept, hidden


def say_hidden(hidden: Sequence[str]) -> None:
    """The stderr note naming the columns a narrow terminal left out."""
    if hidden:
        message(f"too narrow for {', '.join(hidden)}: widen the terminal or use --wide")


def fit_widths(lengths: Sequence[int], width: int) -> list[int | None]:
    """Column limits that fit ``width``: short columns stay whole, long ones share the rest.

    Rich shrinks every no-wrap column by the same amount when a table is too wide, which
    would squeeze ids and statuses to nothing; limiting only the long columns avoids that.
    """
    overhead = 3 * len(lengths)
    if sum(lengths) + overhead <= width:
        return [None] * len(lengths)
    long_columns = [i for i, n in enumerate(lengths) if n > SHORT_COLUMN]
    if not long_columns:
        return [None] * len(lengths)
    fixed = sum(n for i, n in enumerate(lengths) if i not in long_columns)
    remaining = width - fixed - overhead
    limits: list[int | None] = [None] * len(lengths)
    # Narrowest first, so a long column that needs less than its share leaves the rest.
    for position, index in enumerate(sorted(long_columns, key=lambda i: lengths[i])):
        share = max(remaining // (len(long_columns) - position), 8)
        limits[index] = min(lengths[index], share)
        remaining -= limits[index] or 0
    return limits


STATUS_STYLES = {
    "synced": "green",
    "failed": "bold red",
    "blocked": "yellow",
    "pending": "cyan",
    "discarded": "dim",
}


def style_cell(key: str, value: Any) -> Any:
    """Colour statuses by meaning; Rich drops the colour when colour is off."""
    from rich.text import Text

    text = display(value)
    if key in ("status", "outcome") and text in STATUS_STYLES:
        return Text(text, style=STATUS_STYLES[text])
    return Text(text)
