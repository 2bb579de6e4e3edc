"""Global options shared by every command, and the helpers that turn them into a context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custsync_cli.config import Config
    from custsync_cli.context import JobContext
    from custsync_cli.store.database import Store


@dataclass
class GlobalOptions:
    config: str | None = None
    db: str | None = None
    actor: str | None = None


options = GlobalOptions()


def actor() -> str:
    if options.actor:
        return options.actor
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load() -> Config:
    """The config named by the global options; with only ``--db``, a config with no channels."""
    from custsync_cli.config import Config, find_config, load_config

    path = find_config(options.config)
    if not path.exists() and options.db and not options.config:
        return Config(path=None, store=Path(options.db), channels=())
    config = load_config(path)
    if config.views:
        from custsync_cli.cli.read import catalogue_of
        from custsync_cli.store.filters import check_views

        check_views(config, catalogue_of(config))
    return config


def store_path(config: Config) -> Path:
    return Path(options.db) if options.db else config.store


def open_store(config: Config, *, create: bool = False, read_only: bool = False) -> Store:
    """Open the store; ``read_only`` for commands that only read, so they work without write
    access. Says on stderr when the store's file modes were tightened (or could not be)."""
    from custsync_cli.output.console import message
    from custsync_cli.store.database import open_store as open_

    store = open_(store_path(config), create=create, read_only=read_only)
    for notice in store.notices:
        message(notice)
    return store


def job_context(config: Config, store: Store) -> JobContext:
    from custsync_cli.context import JobContext

    return JobContext(config=config, store=store, actor=actor())
