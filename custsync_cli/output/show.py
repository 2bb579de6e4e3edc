"""Render ``show`` (one operation) and ``customer show`` for people: header, sentences, grids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from custsync_cli.domain.describe import describe_event, short_time
from custsync_cli.output.console import stdout_console, stdout_is_terminal
from custsync_cli.output.render import STATUS_STYLES, display
from custsync_cli.output.visible import visible

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

PENDING_SYNC = "Pending sync"
CHANGED = "green"
FAILING = "bold red"
EDITED = "bold magenta"
DROPPED = "dim strike"
CONFLICT = "yellow"
# Cells wrap at spaces on a narrow terminal; a word too long for its cell (an email, a GUID)
# ends in "…" rather than being split over two lines.
WORDS: Final = "ellipsis"


def _print(renderable: RenderableType) -> None:
    stdout_console().print(renderable)


def _table(*, title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    terminal = stdout_is_terminal()
    return Table(
        title=title,
        title_justify="left",
        title_style="bold" if terminal else "",
        box=box.SIMPLE_HEAD if terminal else box.ASCII2,
        show_edge=terminal,
        header_style="bold" if terminal else "",
        pad_edge=False,
    )


def _heading(text: str) -> Text:
    from rich.text import Text

    return Text(text, style="bold underline" if stdout_is_terminal() else "")


def _status_text(status: str) -> Text:
    from rich.text import Text

    return Text(status, style=STATUS_STYLES.get(status, ""))


def _header(detail: dict[str, Any]) -> Table:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold" if stdout_is_terminal() else "")
    grid.add_column()
    account = detail["customer_account"]
    rows: list[tuple[str, Text]] = [
        ("Operation", Text(visible(f"{detail['id']}  {detail['operation']}"))),
        (
            "Customer account",
            Text(visible(account or PENDING_SYNC), style="" if account else "yellow"),
        ),
        ("Async account", Text(visible(detail["async_account"]))),
        (
            "Channel",
            Text(visible(f"{detail['channel']} (counter {detail['replication_counter']})")),
        ),
        ("Status", _status_text(detail["status"])),
        ("Timestamp", Text(visible(short_time(detail["timestamp"])) + " UTC")),
        ("Attempts", Text(str(detail.get("attempts", 0)))),
    ]
    if detail.get("created_by"):
        rows.append(("Channel user", Text(display(detail["created_by"]))))
    if detail.get("blocked_by") is not None:
        rows.append(("Blocked by", Text(f"operation {detail['blocked_by']}", style="yellow")))
    if detail.get("last_error"):
        rows.append(("Last error", Text(display(detail["last_error"]), style=FAILING)))
    if detail.get("discard_reason"):
        rows.append(("Discard reason", Text(display(detail["discard_reason"]))))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def field_marks(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(word, style) marks of one grid row, in a fixed order."""
    marks: list[tuple[str, str]] = []
    if row.get("failing"):
        marks.append(("FAILS", FAILING))
    if not row.get("sent", True):
        marks.append(("missing", FAILING))
    if row.get("changed"):
        marks.append(("changed", CHANGED))
    if row.get("edited"):
        marks.append(("edited", EDITED))
    if row.get("dropped"):
        marks.append(("dropped", "dim"))
    if row.get("conflict_with") is not None:
        marks.append((f"kept newer (op {row['conflict_with']})", CONFLICT))
    if row.get("newer_in") is not None:
        marks.append((f"newer in op {row['newer_in']}", CONFLICT))
    return marks


def conflict_lines(conflicts: list[dict[str, Any]]) -> list[str]:
    """What a resync would keep: one line per field a newer synced operation changed."""
    return [
        f"{c['field']}: changed by operation {c['kept_from_operation']} after this one;"
        " a resync keeps that value unless --force"
        for c in conflicts
    ]


def _grid(fields: list[dict[str, Any]], *, applied: bool) -> Table:
    """``applied``: the old values are HQ's before the operation; otherwise HQ's values now."""
    from rich.text import Text

    table = _table(title="Fields")
    # Field names stay whole; the value columns give way first on a narrow terminal.
    table.add_column("field", no_wrap=True)
    old_heading = "old (HQ before)" if applied else "old (HQ now)"
    for heading in (old_heading, "channel value", "edited value", "marks"):
        table.add_column(heading, overflow=WORDS)
    for row in fields:
        failing, edited, dropped = row.get("failing"), row.get("edited"), row.get("dropped")
        name = Text(visible(row["name"]), style=FAILING if failing else "")
        old = Text(display(row.get("old")), style="dim" if row.get("changed") else "")
        channel_style = ""
        if dropped:
            channel_style = DROPPED
        elif edited:
            channel_style = "dim"
        elif failing:
            channel_style = FAILING
        elif row.get("changed"):
            channel_style = CHANGED
        channel = Text(display(row.get("channel_value")), style=channel_style)
        edited_value = Text("")
        if edited and not dropped:
            edited_value = Text(display(row.get("new")), style=FAILING if failing else EDITED)
        marks = Text(", ").join(Text(word, style=style) for word, style in field_marks(row))
        table.add_row(name, old, channel, edited_value, marks)
    return table


def _history(events: list[dict[str, Any]], *, title: str = "History") -> Table:
    from rich.text import Text

    table = _table(title=title)
    for heading in ("event", "at (UTC)", "actor", "action", "details"):
        table.add_column(heading, overflow=WORDS)
    for event in events:
        action = str(event["action"])
        style = {"sync_failed": FAILING, "synced": CHANGED, "blocked": "yellow"}.get(action, "")
        table.add_row(
            str(event["id"]),
            short_time(event["at"]),
            Text(display(event["actor"])),
            Text(visible(action), style=style),
            # Text, not markup: details quote channel values, which may hold "[...]".
            Text(visible(describe_event(action, event.get("details")))),
        )
    return table


def render_operation(detail: dict[str, Any]) -> None:
    """The human form of ``show``: header, change description, field grid, history."""
    from rich.console import Group
    from rich.text import Text

    conflicts = detail.get("conflicts", [])
    newer = {c["field"]: c["kept_from_operation"] for c in conflicts}
    fields = [{**f, "newer_in": newer.get(f["name"])} for f in detail["fields"]]
    fields += [
        {"name": name, "failing": True, "sent": False} for name in detail.get("missing_fields", [])
    ]
    parts: list[RenderableType] = [
        _header(detail),
        Text(""),
        _heading("What happened"),
        Text(visible(detail["change_description"], keep_newlines=True)),
        *([Text(f"next: {detail['link_hint']}")] if detail.get("link_hint") else []),
        Text(""),
        _grid(fields, applied=detail["status"] == "synced")
        if fields
        else Text("Fields: none (the channel sent no usable fields)"),
        *(Text(visible(line), style=CONFLICT) for line in conflict_lines(conflicts)),
        *([Text("")] if conflicts else []),
        _history(detail["history"]),
    ]
    _print(Group(*parts))


def render_customer(view: dict[str, Any]) -> None:
    """The human form of ``customer show``: the HQ record, addresses, and its operations."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    record = view["customer"]
    parts: list[RenderableType] = []
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold" if stdout_is_terminal() else "")
    grid.add_column()
    account = view["customer_account"]
    grid.add_row("Customer account", Text(visible(account or PENDING_SYNC)))
    grid.add_row("Async account", Text(visible(view["async_account"])))
    if record:
        grid.add_row("Channel", Text(display(record["channel"])))
        for key, value in record.items():
            if key in ("customer_account", "async_account", "channel", "addresses"):
                continue
            if key == "attributes":
                for name, attr in sorted(value.items()):
                    grid.add_row(visible(name), Text(display(attr)))
                continue
            if value is not None and value != "":
                grid.add_row(visible(key), Text(display(value)))
    else:
        grid.add_row("HQ record", Text("none yet: no create has synced", style="yellow"))
    parts.append(grid)
    addresses = record["addresses"] if record else []
    if addresses:
        table = _table(title="Addresses")
        keys = [k for k in addresses[0] if any(a.get(k) not in (None, "") for a in addresses)]
        for key in keys:
            table.add_column(Text(visible(key)), overflow=WORDS)
        for address in addresses:
            table.add_row(*[Text(display(address.get(k))) for k in keys])
        parts += [Text(""), table]
    ops = _table(title="Operations, oldest first")
    for heading in ("id", "timestamp", "channel", "operation", "status", "what happened"):
        ops.add_column(heading, overflow=WORDS)
    for op in view["operations"]:
        ops.add_row(
            str(op["id"]),
            Text(visible(short_time(op["timestamp"]))),
            Text(display(op["channel"])),
            Text(display(op["operation"])),
            _status_text(op["status"]),
            Text(visible(str(op["change_description"]), keep_newlines=True)),
        )
    parts += [Text(""), ops]
    _print(Group(*parts))
