"""Options that several commands share, declared once so they read the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

NoPager = Annotated[
    bool,
    typer.Option(
        "--no-pager",
        help="Print straight to the terminal, not through $CUSTSYNC_PAGER, $PAGER or less -FRX.",
    ),
]
