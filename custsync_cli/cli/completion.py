"""Shell-completion callbacks for options: channels, statuses, jobs, fields, error codes, ids.

Use them as ``typer.Option(..., autocompletion=complete_channel)``. Each one reads the config
named by ``--config`` / ``CUSTSYNC_CONFIG`` on the command line being completed, and returns
nothing rather than failing when the config or store cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from custsync_cli.config import Config
    from custsync_cli.filter_set import Filter

Completion = list[tuple[str, str]]


def _matching(candidates: Iterable[tuple[str, str]], incomplete: str) -> Completion:
    return [(value, help_text) for value, help_text in candidates if value.startswith(incomplete)]


def _config(ctx: typer.Context | None) -> Config | None:
    from custsync_cli.config import find_config, load_config

    explicit = None
    if ctx is not None:
        explicit = ctx.find_root().params.get("config")
    try:
        path = find_config(explicit)
        return load_config(path) if path.exists() else None
    except Exception:
        return None


def complete_status(incomplete: str) -> Completion:
    """The five operation statuses."""
    from custsync_cli.domain.models import Status

    meanings = {
        "pending": "pulled, not yet applied",
        "blocked": "waits for an earlier operation",
        "failed": "needs an operator",
        "synced": "applied to HQ",
        "discarded": "dropped by an operator",
    }
    return _matching(((s.value, meanings[s.value]) for s in Status), incomplete)


def complete_job(incomplete: str) -> Completion:
    """The three batch jobs."""
    jobs = (
        ("pull", "read channel outboxes"),
        ("sync", "apply to HQ"),
        ("distribute", "write accounts back"),
    )
    return _matching(jobs, incomplete)


def complete_operation_type(incomplete: str) -> Completion:
    from custsync_cli.domain.models import OperationType

    return _matching(((t.value, "") for t in OperationType), incomplete)


def complete_error_code(incomplete: str) -> Completion:
    """Every stable error code, with its short meaning."""
    from custsync_cli.domain.codes import CODES

    return _matching(((c.code, c.summary) for c in CODES.values()), incomplete)


def complete_channel(ctx: typer.Context, incomplete: str) -> Completion:
    """Channel names from the config."""
    config = _config(ctx)
    if config is None:
        return []
    return _matching(((c.name, str(c.database)) for c in config.channels), incomplete)


def complete_view(ctx: typer.Context, incomplete: str) -> Completion:
    """Saved view names from the config, with their options."""
    config = _config(ctx)
    if config is None:
        return []
    return _matching(((view.name, view.options) for view in config.views), incomplete)


def _field_names(ctx: typer.Context | None, prefix: str) -> Completion:
    from custsync_cli.domain.fields import Catalogue

    config = _config(ctx)
    attributes = tuple(a.name for a in config.attributes) if config else ()
    return [
        (field, "attribute" if field in attributes else "")
        for field in Catalogue(attributes).all_fields
        if field.startswith(prefix)
    ]


def complete_field(ctx: typer.Context, incomplete: str) -> Completion:
    """Customer and address fields and the configured attributes, for FIELD=VALUE options."""
    if "=" in incomplete:
        return []
    return [(f"{name}=", kind) for name, kind in _field_names(ctx, incomplete)]


def complete_field_name(ctx: typer.Context, incomplete: str) -> Completion:
    """Field names alone, for options that take FIELD (``edit --unset``)."""
    return _field_names(ctx, incomplete)


def complete_failed_operation(ctx: typer.Context, incomplete: str) -> Completion:
    """Ids of failed operations, newest first, with their last error."""
    import sqlite3

    from custsync_cli.cli import state
    from custsync_cli.store.operations import latest_failures

    config = _config(ctx)
    if config is None:
        return []
    path = state.store_path(config)
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = latest_failures(conn, 200)
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return _matching(((str(op_id), (error or "")[:60]) for op_id, error in rows), incomplete)


def complete_filter(declared: Filter) -> Callable[..., Completion] | None:
    """The completion of a filter's values: its closed set, or field names for FIELD=VALUE."""
    from custsync_cli.filter_set import Known

    if declared.completes_fields:
        return complete_field
    completers: dict[Known, Callable[..., Completion]] = {
        Known.status: complete_status,
        Known.operation: complete_operation_type,
        Known.channel: complete_channel,
        Known.error_code: complete_error_code,
    }
    return completers.get(declared.known) if declared.known else None
