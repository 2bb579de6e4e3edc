"""Operation filters as parameterised SQL, answered from the store's indexes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.domain.fields import Catalogue
from custsync_cli.domain.models import OperationType, Status
from custsync_cli.errors import UsageError


@dataclass(frozen=True)
class FieldMatch:
    """``--where FIELD=VALUE`` (exact) or ``FIELD~TEXT`` (contains) on a field's new value."""

    name: str
    value: str
    contains: bool = False

    @classmethod
    def parse(cls, text: str, catalogue: Catalogue) -> FieldMatch:
        equals, tilde = text.find("="), text.find("~")
        cut = min(i for i in (equals, tilde, len(text)) if i >= 0)
        if cut in (0, len(text)):
            raise UsageError(f"--where '{text}' must look like FIELD=VALUE or FIELD~TEXT")
        name, value = text[:cut].strip(), text[cut + 1 :]
        if not catalogue.is_known(name):
            valid = ", ".join(catalogue.all_fields)
            raise UsageError(f"--where: unknown field '{name}' (valid fields: {valid})")
        return cls(name, value, contains=text[cut] == "~")


@dataclass
class OperationFilter:
    """Every list filter of DESIGN §4; empty means no restriction. Combined with AND."""

    statuses: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    customer_account: str | None = None
    async_account: str | None = None
    error_text: str | None = None
    error_code: str | None = None
    where: list[FieldMatch] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(
            (
                self.statuses,
                self.channels,
                self.operations,
                self.since,
                self.until,
                self.customer_account,
                self.async_account,
                self.error_text,
                self.error_code,
                self.where,
            )
        )

    def check(self) -> None:
        valid_statuses = {s.value for s in Status}
        for status in self.statuses:
            if status not in valid_statuses:
                valid = ", ".join(sorted(valid_statuses))
                raise UsageError(f"--status: unknown status '{status}' (valid: {valid})")
        valid_operations = {o.value for o in OperationType}
        for operation in self.operations:
            if operation not in valid_operations:
                raise UsageError(
                    f"--operation: unknown operation '{operation}'"
                    f" (valid: {', '.join(sorted(valid_operations))})"
                )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where_clause(flt: OperationFilter) -> tuple[str, list[Any]]:
    """SQL condition on ``operations AS o`` and its parameters; values are always bound."""
    flt.check()
    parts: list[str] = []
    params: list[Any] = []

    def any_of(column: str, values: list[str]) -> None:
        parts.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    if flt.statuses:
        any_of("o.status", flt.statuses)
    if flt.channels:
        any_of("o.channel", flt.channels)
    if flt.operations:
        any_of("o.operation", flt.operations)
    if flt.since:
        parts.append("o.timestamp >= ?")
        params.append(flt.since)
    if flt.until:
        parts.append("o.timestamp <= ?")
        params.append(flt.until)
    if flt.customer_account:
        parts.append("o.customer_account = ?")
        params.append(flt.customer_account)
    if flt.async_account:
        parts.append("o.async_account = ?")
        params.append(flt.async_account)
    if flt.error_code:
        parts.append("o.id IN (SELECT operation_id FROM operation_errors WHERE code = ?)")
        params.append(flt.error_code)
    if flt.error_text:
        parts.append(
            "o.id IN (SELECT operation_id FROM operation_errors"
            " WHERE message LIKE ? ESCAPE '\\' OR code LIKE ? ESCAPE '\\')"
        )
        params.extend([_like(flt.error_text)] * 2)
    for match in flt.where:
        if match.contains:
            parts.append(
                "o.id IN (SELECT operation_id FROM operation_fields WHERE name = ?"
                " AND dropped = 0 AND new_value LIKE ? ESCAPE '\\')"
            )
            params.extend([match.name, _like(match.value)])
        else:
            parts.append(
                "o.id IN (SELECT operation_id FROM operation_fields WHERE name = ?"
                " AND new_value = ? AND dropped = 0)"
            )
            params.extend([match.name, match.value])
    return (" AND ".join(parts) or "1"), params


def matching_ids(
    conn: sqlite3.Connection, flt: OperationFilter, *, limit: int | None = None, offset: int = 0
) -> list[int]:
    """Ids of matching operations, newest first (by channel time, then id)."""
    clause, params = where_clause(flt)
    sql = f"SELECT o.id FROM operations AS o WHERE {clause} ORDER BY o.timestamp DESC, o.id DESC"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    return [int(row[0]) for row in conn.execute(sql, params)]


def count_matching(conn: sqlite3.Connection, flt: OperationFilter) -> int:
    clause, params = where_clause(flt)
    return int(
        conn.execute(f"SELECT count(*) FROM operations AS o WHERE {clause}", params).fetchone()[0]
    )


def matching_statuses(conn: sqlite3.Connection, flt: OperationFilter) -> list[tuple[int, str]]:
    """(id, status) of every matching operation, oldest first: what a bulk repair works on."""
    clause, params = where_clause(flt)
    return [
        (int(row[0]), str(row[1]))
        for row in conn.execute(
            f"SELECT o.id, o.status FROM operations AS o WHERE {clause} ORDER BY o.id", params
        )
    ]
