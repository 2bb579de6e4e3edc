"""What ``list`` and ``show`` do with their parsed options, free of Typer so both parsers use it.

``audit_cmds`` declares the commands for Typer; ``fast`` parses their plainest command lines
without it. Both end here, so the output is the same whichever parsed the line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from custsync_cli.cli import state
from custsync_cli.cli.filters import FilterOptions
from custsync_cli.output.render import ROW_FORMATS, TABLE_OR_JSON, OutputFormat

if TYPE_CHECKING:
    from custsync_cli.config import Config
    from custsync_cli.domain.fields import Catalogue
    from custsync_cli.store.database import Store

SHORT_ERROR = 60
LIST_COLUMNS = (
    ("id", "id"),
    ("channel", "channel"),
    ("customer_account", "customer account"),
    ("async_account", "async customer account"),
    ("timestamp", "timestamp"),
    ("status", "status"),
    ("operation", "operation"),
    ("last_error", "last error"),
)


LIST_FORMATS = ROW_FORMATS
SHOW_FORMATS = TABLE_OR_JSON


def catalogue_of(config: Config) -> Catalogue:
    from custsync_cli.domain.fields import Catalogue

    return Catalogue(tuple(a.name for a in config.attributes))


def more_note(shown: int, total: int, offset: int, noun: str) -> str | None:
    """The stderr line that says how many more match, or None when all are shown."""
    if total == 0:
        return f"no {noun} match"
    if shown == 0:
        return f"no {noun} at offset {offset}; {total} match in all"
    if offset + shown >= total:
        return None
    span = str(shown) if offset == 0 else f"{offset + 1}-{offset + shown}"
    return f"showing {span} of {total}; use --offset {offset + shown} for more"


def error_codes(errors: list[dict[str, str]]) -> str:
    """The ``errors`` cell of a CSV or TSV row: the codes, joined by ``;``."""
    return ";".join(error["code"] for error in errors)


def list_operations(
    *,
    limit: int = 50,
    offset: int = 0,
    output_format: OutputFormat = OutputFormat.table,
    wide: bool = False,
    every: bool = False,
    no_headers: bool = False,
    no_pager: bool = False,
    filters: FilterOptions | None = None,
) -> None:
    """``custsync list``; the defaults are the command's (a test keeps them equal).

    ``every`` (``--all``) or a ``limit`` of 0 lists every match.
    """
    from custsync_cli.output.console import message
    from custsync_cli.output.pager import paged
    from custsync_cli.store.views import LIST_KEYS, list_page

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        flt = (filters or FilterOptions()).build(config, store.conn)
        page = list_page(
            store.conn, flt, limit=None if every or not limit else limit, offset=offset
        )
    with paged(enabled=not no_pager):
        if output_format is OutputFormat.table:
            from custsync_cli.output.listing import print_operations

            print_operations(
                page.operations,
                LIST_COLUMNS,
                wide=wide,
                error_limit=SHORT_ERROR,
                headers=not no_headers,
            )
        else:
            from custsync_cli.output.render import render_rows

            rows = page.operations
            if output_format in (OutputFormat.csv, OutputFormat.tsv):
                rows = [{**row, "errors": error_codes(row["errors"])} for row in rows]
            columns = [(key, key) for key in (*LIST_KEYS, "errors")]
            render_rows(rows, columns, output_format, headers=not no_headers)
    note = more_note(len(page.operations), page.total, offset, "operations")
    if note:
        message(note)


@contextmanager
def archived_connection(store: Store, op: int) -> Iterator[sqlite3.Connection]:
    """The archive file holding operation ``op`` (with the store attached), said on stderr;
    exit 3 naming the archive when its file is missing, or ``op`` was never archived."""
    from custsync_cli.errors import NotFoundError
    from custsync_cli.jobs.archive import archive_path
    from custsync_cli.output.console import message
    from custsync_cli.store.archive import archive_holding, open_archive

    record = archive_holding(store.conn, op)
    if record is None:
        raise NotFoundError(f"no operation {op} (see 'custsync list')")
    path = archive_path(store, record)
    name = record["file_name"]
    if not path.is_file():
        raise NotFoundError(f"operation {op} is archived in {name}, but that file is missing")
    message(f"operation {op} is archived in {name}")
    conn = open_archive(path, store.path)
    try:
        yield conn
    finally:
        conn.close()


def show_operation(*, op: int, output_format: OutputFormat = OutputFormat.table) -> None:
    """``custsync show OP``."""
    from custsync_cli.errors import NotFoundError
    from custsync_cli.store.views import operation_detail

    config = state.load()
    with state.open_store(config, read_only=True) as store:
        detail = operation_detail(store.conn, op, catalogue_of(config))
        if detail is None:
            with archived_connection(store, op) as conn:
                detail = operation_detail(conn, op, catalogue_of(config))
    if detail is None:
        raise NotFoundError(f"no operation {op} (see 'custsync list')")
    if output_format is OutputFormat.json:
        from custsync_cli.output.render import print_json

        print_json(detail)
    else:
        from custsync_cli.output.show import render_operation

        render_operation(detail)
