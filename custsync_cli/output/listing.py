"""The ``list`` table: whole lines when piped, narrow-terminal fitting that never splits an id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custsync_cli.output.console import stdout_console, stdout_is_terminal
from custsync_cli.output.render import (
    column_lengths,
    display,
    drop_to_fit,
    print_table,
    say_hidden,
    table_time,
)

PENDING_SYNC = "Pending sync"
SHORT_GUID = 9
# On a narrow terminal these columns give way first, so the rest stay readable.
DROP_ORDER = ("async_account", "operation", "channel")


def shorten(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)].rstrip() + "…"


def print_operations(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    wide: bool,
    error_limit: int,
    headers: bool = True,
) -> None:
    """Rows as ``list`` shows them; a note on stderr names the columns left out."""
    shown = [
        {
            **row,
            "customer_account": row["customer_account"] or PENDING_SYNC,
            "timestamp": table_time(row["timestamp"]),
        }
        for row in rows
    ]
    if wide:
        print_table(shown, columns, wide=True, headers=headers)
        return
    if not stdout_is_terminal():
        # Piped: one whole line per operation so that grep and cut work; only errors are cut.
        for row in shown:
            row["last_error"] = shorten(row["last_error"], error_limit)
        print_table(shown, columns, wide=True, headers=headers)
        return
    for row in shown:
        row["last_error"] = shorten(row["last_error"], error_limit)
    width = stdout_console().width
    kept = list(columns)
    if sum(column_lengths(shown, kept)) + 3 * len(kept) > width:
        # Like a short commit hash: enough to tell customers apart; --wide shows it whole.
        for row in shown:
            row["async_account"] = shorten(row["async_account"], SHORT_GUID)
            row["timestamp"] = table_time(row["timestamp"], minutes=True)
    kept, hidden = drop_to_fit(shown, kept, width, DROP_ORDER)
    _terminal_table(shown, kept, headers)
    say_hidden(hidden)


# Columns that may wrap at spaces on a narrow terminal, a word too long ending in "…";
# the others stay whole.
WRAPPING = frozenset({"async_account", "last_error"})


def _terminal_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], headers: bool
) -> None:
    from rich import box
    from rich.table import Table

    from custsync_cli.output.render import style_cell

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_header=headers)
    for key, heading in columns:
        whole = max(len(display(row.get(key))) for row in rows) if rows else 0
        table.add_column(
            heading,
            no_wrap=key not in WRAPPING,
            overflow="ellipsis",
            justify="right" if key == "id" else "left",
            min_width=whole if key in ("id", "status") else None,
        )
    for row in rows:
        table.add_row(*[style_cell(key, row.get(key)) for key, _ in columns])
    stdout_console().print(table)
