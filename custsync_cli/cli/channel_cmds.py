"""The ``channel`` group: operator decisions about one channel's outbox, audited."""

from __future__ import annotations

from typing import Annotated

import typer

from custsync_cli.cli import state
from custsync_cli.cli.options import ReasonOption, WaitOption

PANEL = "Jobs"


def register(app: typer.Typer) -> None:
    channel_app = typer.Typer(
        help="Decisions about one channel's outbox.\n\n"
        'Example: custsync channel reset-watermark web-se --reason "restored from backup"',
        no_args_is_help=True,
    )
    channel_app.command("reset-watermark")(reset_watermark_command)
    app.add_typer(channel_app, name="channel", rich_help_panel=PANEL)


def reset_watermark_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The channel, as configured.")],
    reason: ReasonOption = None,
    wait: WaitOption = 0.0,
) -> None:
    """Resume pulling a channel whose replication counters went backwards.

    The pull stops a channel (exit 1) when its highest counter fell below the watermark
    or the row at the watermark is not the row pulled there, e.g. after the channel
    database was restored from a backup. This takes the row now at the watermark as
    pulled; rows above the watermark are pulled by the next run. The watermark never
    moves down. Audited as watermark_reset with the actor and reason.

    Example: custsync channel reset-watermark web-se --reason "restored 11-20 backup, rows re-sent"
    """
    from custsync_cli.output.console import message
    from custsync_cli.repair.watermark import reset_watermark
    from custsync_cli.store.lock import run_lock

    config = state.load()
    channel = config.channel(name)
    with state.open_store(config) as store:
        ctx = state.job_context(config, store)
        with run_lock(state.store_path(config), wait=wait, purpose="reset-watermark"):
            result = reset_watermark(ctx, channel, reason)
    message(
        f"channel {result.channel}: watermark {result.watermark} kept, the row now there is"
        f" taken as pulled ({result.problem}); the next run pulls the rows above it"
    )
