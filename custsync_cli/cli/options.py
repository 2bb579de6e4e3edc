"""Options that several commands share, declared once so they read the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli.completion import complete_failed_operation
from custsync_cli.cli.formats import format_option
from custsync_cli.config import MAX_INTEGER
from custsync_cli.output.render import TABLE_OR_JSON, OutputFormat

NoPager = Annotated[
    bool,
    typer.Option(
        "--no-pager",
        help="Print straight to the terminal, not through $CUSTSYNC_PAGER, $PAGER or less -FRX.",
    ),
]
OperationIds = Annotated[
    list[int] | None,
    typer.Argument(
        metavar="OP",
        max=MAX_INTEGER,
        help="Operation ids; or use filters.",
        show_default=False,
        autocompletion=complete_failed_operation,
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why: recorded in the audit log (required).")
]
FormatOption = Annotated[
    OutputFormat,
    format_option(TABLE_OR_JSON, help="table for people, json for scripts."),
]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation (needed without a terminal)."),
]
WaitOption = Annotated[
    float,
    typer.Option("--wait", min=0, help="Seconds to wait for another run's lock before exit 75."),
]
