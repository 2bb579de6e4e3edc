"""What one sync batch reads from HQ, loaded in a few queries, and the writes it defers."""

from __future__ import annotations

import sqlite3
import string
from collections.abc import Sequence
from typing import Any

from custsync_cli.domain.models import Operation
from custsync_cli.store import hq
from custsync_cli.store.database import chunked, placeholders
from custsync_cli.store.operations import blocked_dependants, record_old_values

# SQLite's NOCASE folds ASCII letters only; so does this.
_NOCASE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_nocase(text: str) -> str:
    return text.translate(_NOCASE)


class BatchView:
    """The customers, email owners, blocked dependants and account numbers a batch needs.

    Loaded up front with one query per kind instead of several per operation, then kept in
    step with every change the batch makes, so each answer equals what a query would give
    at that moment inside the batch's transaction.
    """

    def __init__(
        self, conn: sqlite3.Connection, operations: Sequence[Operation], sequence: str
    ) -> None:
        self.conn = conn
        accounts = list(dict.fromkeys(op.async_account for op in operations))
        self.customers: dict[str, dict[str, Any]] = {}
        self._rowids: dict[str, int] = {}
        self._load_customers(accounts)
        emails = {fold_nocase(e) for op in operations if (e := op.values.get("email"))}
        self._email_owners: dict[str, list[tuple[int, str]]] = {e: [] for e in emails}
        self._load_email_owners(sorted(emails))
        self._latest_synced: dict[str, tuple[str, int]] = {}
        self._load_latest_synced(accounts)
        self.waiting: dict[int, list[int]] = {}
        self._load_waiting([op.id for op in operations])
        self.numbers = hq.AccountNumbers(conn, sequence)

    # Loading ------------------------------------------------------------------------------

    def _load_customers(self, accounts: list[str]) -> None:
        for chunk in chunked(accounts):
            for row in self.conn.execute(
                f"SELECT rowid, {hq.CUSTOMER_SELECT} FROM customers"
                f" WHERE async_account IN ({placeholders(len(chunk))})",
                chunk,
            ):
                customer = dict(row)
                self._rowids[customer["account"]] = customer.pop("rowid")
                self.customers[customer["async_account"]] = customer
        self._load_linked([account for account in accounts if account not in self.customers])

    def _load_linked(self, accounts: list[str]) -> None:
        """Async accounts linked to an existing customer share that customer's row."""
        by_account = {customer["account"]: customer for customer in self.customers.values()}
        columns = ", ".join(f"c.{name}" for name in hq.CUSTOMER_SELECT.split(", "))
        for chunk in chunked(accounts):
            for row in self.conn.execute(
                f"SELECT o.async_account AS linked, c.rowid, {columns} {hq.LINKED_CUSTOMERS}"
                f" IN ({placeholders(len(chunk))})",
                chunk,
            ):
                customer = dict(row)
                linked = customer.pop("linked")
                self._rowids[customer["account"]] = customer.pop("rowid")
                shared = by_account.setdefault(customer["account"], customer)
                self.customers[linked] = shared

    def _load_email_owners(self, emails: list[str]) -> None:
        for chunk in chunked(emails):
            for rowid, email, account in self.conn.execute(
                "SELECT rowid, email, account FROM customers"
                f" WHERE email COLLATE NOCASE IN ({placeholders(len(chunk))})",
                chunk,
            ):
                self._email_owners[fold_nocase(email)].append((rowid, account))
        for owners in self._email_owners.values():
            owners.sort()

    def _load_latest_synced(self, accounts: list[str]) -> None:
        latest = self._latest_synced
        for chunk in chunked(accounts):
            for account, timestamp, op_id in self.conn.execute(
                # +status keeps the planner on the async_account index.
                "SELECT async_account, timestamp, id FROM operations"
                f" WHERE async_account IN ({placeholders(len(chunk))}) AND +status = 'synced'",
                chunk,
            ):
                if (timestamp, op_id) > latest.get(account, ("", 0)):
                    latest[account] = (timestamp, op_id)

    def _load_waiting(self, ids: list[int]) -> None:
        for row in blocked_dependants(self.conn, ids):
            self.waiting.setdefault(row["blocked_by"], []).append(row["id"])

    # Customers ----------------------------------------------------------------------------

    def customer(self, async_account: str) -> dict[str, Any] | None:
        return self.customers.get(async_account)

    def insert_customer(
        self,
        account: str,
        async_account: str,
        channel: str,
        values: hq.Values,
        operation_id: int,
        now: str,
    ) -> None:
        rowid, customer = hq.insert_customer(
            self.conn, account, async_account, channel, values, operation_id, now
        )
        self.customers[async_account] = customer
        self._rowids[account] = rowid
        self._move_email(account, None, customer["email"])

    def update_customer(self, customer: dict[str, Any], changes: hq.Values, now: str) -> None:
        old_email = customer["email"]
        hq.update_customer(self.conn, customer, changes, now)
        self._move_email(customer["account"], old_email, customer["email"])

    # Email owners ---------------------------------------------------------------------------

    def email_owner(self, email: str, except_account: str | None) -> str | None:
        """The first other customer with ``email`` (any case), in the email index's order."""
        owners = self._email_owners.get(fold_nocase(email))
        if owners is None:
            return hq.email_owner(self.conn, email, except_account)
        return next((account for _, account in owners if account != except_account), None)

    def _move_email(self, account: str, old: str | None, new: str | None) -> None:
        if old == new:
            return
        entry = (self._rowids[account], account)
        owners = self._email_owners.get(fold_nocase(old)) if old is not None else None
        if owners and entry in owners:
            owners.remove(entry)
        if new is not None and (owners := self._email_owners.get(fold_nocase(new))) is not None:
            owners.append(entry)
            owners.sort()

    # Stale fields ---------------------------------------------------------------------------

    def may_have_later_sync(self, op: Operation) -> bool:
        """False when no synced operation of the customer is later than ``op``."""
        latest = self._latest_synced.get(op.async_account)
        return latest is not None and latest > (op.timestamp, op.id)

    def note_synced(self, op: Operation) -> None:
        if (op.timestamp, op.id) > self._latest_synced.get(op.async_account, ("", 0)):
            self._latest_synced[op.async_account] = (op.timestamp, op.id)

    def flush(self) -> None:
        self.numbers.save()


class DeferredWrites:
    """Row updates no later read in the batch depends on, written with one statement each."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.synced: list[tuple[Any, ...]] = []
        self.synced_unblocked: list[tuple[Any, ...]] = []
        self.old_values: list[tuple[int, dict[str, str | None]]] = []
        self.owner_accounts: list[tuple[str, str]] = []

    def flush(self) -> None:
        """Write what is waiting; call before reading operations' statuses or at batch end."""
        self._many(
            "UPDATE operations SET status = 'synced', customer_account = ?, synced_at = ?,"
            " last_error = NULL, attempts = attempts + 1, updated_at = ?,"
            " version = version + 1 WHERE id = ?",
            self.synced,
        )
        self._many(
            # Writing a foreign-key column makes SQLite rewrite every index of the row, so
            # blocked_by is only cleared where it is set.
            "UPDATE operations SET status = 'synced', customer_account = ?, synced_at = ?,"
            " last_error = NULL, blocked_by = NULL, attempts = attempts + 1, updated_at = ?,"
            " version = version + 1 WHERE id = ?",
            self.synced_unblocked,
        )
        if self.old_values:
            record_old_values(self.conn, self.old_values)
            self.old_values.clear()
        self._many(
            "UPDATE operations SET customer_account = ? WHERE async_account = ?"
            " AND customer_account IS NULL",
            self.owner_accounts,
        )

    def _many(self, sql: str, rows: list[Any]) -> None:
        if rows:
            self.conn.executemany(sql, rows)
            rows.clear()
