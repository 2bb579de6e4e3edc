"""HQ and the operations as the decision tree asks about them, answered by store queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from custsync_cli.domain.models import Operation
from custsync_cli.store import hq
from custsync_cli.store.operations import first_create, later_synced_fields, load_operation


class StoreLookups:
    """Answers ``domain.decision.HQLookups`` with one query per question (repair previews)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def customer(self, async_account: str) -> dict[str, Any] | None:
        return hq.customer_by_async(self.conn, async_account)

    def customer_values(self, customer: Mapping[str, Any]) -> hq.Values:
        return hq.customer_values(customer)

    def address_values(self, account: str, address_id: str) -> hq.Values | None:
        return hq.address_values(self.conn, account, address_id)

    def dependency(
        self, op: Operation, create_kind: str, address_id: str | None
    ) -> tuple[int, str] | None:
        return first_create(self.conn, op, create_kind, address_id)

    def email_owner(self, email: str, except_account: str | None) -> str | None:
        return hq.email_owner(self.conn, email, except_account)

    def later_synced_fields(self, op: Operation) -> dict[str, int]:
        return later_synced_fields(self.conn, op)

    def values_of(self, op_id: int) -> hq.Values:
        found = load_operation(self.conn, op_id)
        return dict(found.values) if found else {}
