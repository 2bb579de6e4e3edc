"""Append operations written in YAML to a channel database's outbox (sample data, tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from custsync_cli.errors import UsageError

ITEM_KEYS = {"async_account", "operation", "fields", "created_at", "created_by"}


def load_operations_file(source: Path, database: Path) -> int:
    """Check every item first, then append them all in one transaction; return the count."""
    import sqlite_utils
    import yaml

    from custsync_cli import yamlio
    from custsync_cli.channels.sqlite_outbox import create_channel_database

    try:
        data = yamlio.load(yamlio.read_document(source))
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    except ValueError as exc:  # not UTF-8, or too large
        raise UsageError(f"cannot read {source}: {exc}".splitlines()[0]) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{source}: malformed YAML{yamlio.describe(exc)}") from None
    if not isinstance(data, list):
        raise UsageError(f"{source}: expected a list of operations")
    rows = [_row(item, index, source) for index, item in enumerate(data)]
    if not database.exists():
        create_channel_database(database)
    db = sqlite_utils.Database(database)
    with db.conn:
        db.table("async_customer_operation").insert_all(rows)
    db.close()
    return len(rows)


def _row(item: Any, index: int, source: Path) -> dict[str, Any]:
    where = f"{source}: item {index + 1}"
    if not isinstance(item, dict):
        raise UsageError(f"{where} is not a mapping")
    unknown = set(item) - ITEM_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("async_account", "operation"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise UsageError(f"{where}: '{key}' must be a non-empty string")
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise UsageError(f"{where}: 'fields' must be a mapping")
    created_at = item.get("created_at") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(created_at, datetime):
        created_at = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "async_account": item["async_account"],
        "operation": item["operation"],
        "fields": json.dumps(fields, ensure_ascii=False, default=str),
        "created_at": str(created_at),
        "created_by": item.get("created_by"),
    }
