"""Channels behind one adapter interface: the jobs read and write them without knowing the kind."""

from __future__ import annotations

from custsync_cli.channels.base import ChannelAdapter
from custsync_cli.config import ChannelConfig


def open_channel(config: ChannelConfig) -> ChannelAdapter:
    """The adapter for a configured channel (today: the SQLite outbox database)."""
    from custsync_cli.channels.sqlite_outbox import SqliteOutboxChannel

    return SqliteOutboxChannel(config)
