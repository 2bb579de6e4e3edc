"""The ``--format`` option: each command names the formats it prints, and only those parse."""

from __future__ import annotations

from typing import Any

import typer

from custsync_cli.output.render import Formats


def format_option(formats: Formats, help: str) -> Any:
    """``--format`` taking one of ``formats``: help and completion show only those."""
    return typer.Option(
        "--format",
        parser=formats,
        autocompletion=formats.complete,
        help=help,
    )
