"""The HQ customer master in the store: customers, addresses and the account number sequence."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from custsync_cli.config import SequenceConfig
from custsync_cli.domain.fields import ADDRESS_FIELDS, CUSTOMER_FIELDS
from custsync_cli.store.database import chunked, placeholders

Values = dict[str, str | None]

# The HQ record's columns: the customer fields, and the address fields but its key.
CUSTOMER_COLUMNS = CUSTOMER_FIELDS
ADDRESS_COLUMNS = tuple(name for name in ADDRESS_FIELDS if name != "address_id")
CUSTOMER_SELECT = ", ".join(
    ("account", "async_account", "channel", *CUSTOMER_COLUMNS, "attributes")
)


class SequenceExhausted(Exception):
    """The number sequence has handed out its last account number."""


# An async account maps to the customer its create made, or, once that create was linked to
# an existing customer (``custsync link``), to the customer its synced create names.
# The unary + keeps the planner on the async_account index: by operation type or status alone
# it would walk every synced create in the store for each batch.
LINKED_CUSTOMERS = (
    "FROM operations o JOIN customers c ON c.account = o.customer_account"
    " WHERE +o.operation = 'create_customer' AND +o.status = 'synced'"
    " AND c.async_account <> o.async_account AND o.async_account"
)


def customer_by_async(conn: sqlite3.Connection, async_account: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {CUSTOMER_SELECT} FROM customers WHERE async_account = ?", (async_account,)
    ).fetchone()
    if row is None:
        columns = ", ".join(f"c.{name}" for name in CUSTOMER_SELECT.split(", "))
        row = conn.execute(
            f"SELECT {columns} {LINKED_CUSTOMERS} = ? LIMIT 1", (async_account,)
        ).fetchone()
    return dict(row) if row else None


def customer_by_account(conn: sqlite3.Connection, account: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {CUSTOMER_SELECT}, created_at, updated_at FROM customers WHERE account = ?",
        (account,),
    ).fetchone()
    return dict(row) if row else None


def customer_values(customer: Mapping[str, Any]) -> Values:
    """The customer's field values, built-in columns and attributes alike."""
    values: Values = {name: customer[name] for name in CUSTOMER_COLUMNS}
    values.update(json.loads(customer["attributes"] or "{}"))
    return values


def address_values(conn: sqlite3.Connection, account: str, address_id: str) -> Values | None:
    row = conn.execute(
        f"SELECT address_id, {', '.join(ADDRESS_COLUMNS)} FROM addresses"
        " WHERE customer_account = ? AND address_id = ?",
        (account, address_id),
    ).fetchone()
    return dict(row) if row else None


def email_owner(conn: sqlite3.Connection, email: str, except_account: str | None) -> str | None:
    row = conn.execute(
        "SELECT account FROM customers WHERE email = ? COLLATE NOCASE AND account IS NOT ? LIMIT 1",
        (email, except_account),
    ).fetchone()
    return str(row[0]) if row else None


def ensure_sequence(conn: sqlite3.Connection, sequence: SequenceConfig) -> None:
    """Create the sequence row, or adopt the config's prefix, width and upper bound."""
    conn.execute(
        "INSERT INTO number_sequences (name, prefix, width, next_value, last_value)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET prefix = excluded.prefix,"
        " width = excluded.width, last_value = excluded.last_value,"
        " next_value = max(next_value, excluded.next_value)",
        (sequence.name, sequence.prefix, sequence.width, sequence.first, sequence.last),
    )


def first_taken_account(conn: sqlite3.Connection, name: str) -> str | None:
    """The lowest account the sequence ``name`` has still to hand out that a customer has.

    Accounts of one prefix and width sort as their numbers do, so this is one range lookup
    on the primary key.
    """
    prefix, width, next_value, last_value = conn.execute(
        "SELECT prefix, width, next_value, last_value FROM number_sequences WHERE name = ?",
        (name,),
    ).fetchone()
    if next_value > last_value:
        return None
    row = conn.execute(
        "SELECT min(account) FROM customers WHERE account BETWEEN ? AND ?"
        " AND length(account) = ? AND substr(account, ?) NOT GLOB '*[^0-9]*'",
        (
            f"{prefix}{next_value:0{width}d}",
            f"{prefix}{last_value:0{width}d}",
            len(prefix) + width,
            len(prefix) + 1,
        ),
    ).fetchone()
    return row[0] if row else None


def other_sequences(conn: sqlite3.Connection, name: str) -> list[str]:
    """The names of the store's other number sequences."""
    rows = conn.execute("SELECT name FROM number_sequences WHERE name <> ? ORDER BY name", (name,))
    return [row[0] for row in rows]


class AccountNumbers:
    """Hands out account numbers from a sequence, reading its row once and writing it once."""

    def __init__(self, conn: sqlite3.Connection, name: str) -> None:
        self.conn = conn
        self.name = name
        self._row: list[Any] | None = None

    def draw(self) -> str:
        if self._row is None:
            self._row = list(
                self.conn.execute(
                    "SELECT prefix, width, next_value, last_value FROM number_sequences"
                    " WHERE name = ?",
                    (self.name,),
                ).fetchone()
            )
        prefix, width, next_value, last_value = self._row
        if next_value > last_value:
            raise SequenceExhausted(self.name)
        self._row[2] = next_value + 1
        return f"{prefix}{next_value:0{width}d}"

    def save(self) -> None:
        """Record the numbers drawn; call in the transaction that uses them."""
        if self._row is not None:
            self.conn.execute(
                "UPDATE number_sequences SET next_value = ? WHERE name = ?",
                (self._row[2], self.name),
            )


_CUSTOMER_COLUMN_SET = frozenset(CUSTOMER_COLUMNS)


def _split(values: Values) -> tuple[Values, Values]:
    """Built-in customer columns, and the configured attributes kept as JSON."""
    builtin: Values = {}
    attributes: Values = {}
    for name, value in values.items():
        (builtin if name in _CUSTOMER_COLUMN_SET else attributes)[name] = value
    return builtin, attributes


def _attributes_json(attributes: Values) -> str:
    return json.dumps(attributes, sort_keys=True) if attributes else "{}"


def insert_customer(
    conn: sqlite3.Connection,
    account: str,
    async_account: str,
    channel: str,
    values: Values,
    operation_id: int,
    now: str,
) -> tuple[int, dict[str, Any]]:
    """Insert the customer; return its rowid and the row ``customer_by_async`` now returns."""
    builtin, attributes = _split(values)
    attributes_json = _attributes_json(attributes)
    columns = ["account", "async_account", "channel", *builtin, "attributes"]
    columns += ["created_at", "updated_at", "created_by_operation"]
    params: list[Any] = [account, async_account, channel, *builtin.values()]
    params += [attributes_json, now, now, operation_id]
    cursor = conn.execute(
        f"INSERT INTO customers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        params,
    )
    row: dict[str, Any] = {"account": account, "async_account": async_account, "channel": channel}
    row.update({name: builtin.get(name) for name in CUSTOMER_COLUMNS})
    row["attributes"] = attributes_json
    return int(cursor.lastrowid or 0), row


def update_customer(
    conn: sqlite3.Connection, customer: dict[str, Any], changes: Values, now: str
) -> None:
    """Apply ``changes``; ``customer`` (a ``customer_by_async`` row) is updated to match."""
    builtin, attributes = _split(changes)
    assignments = [f"{name} = ?" for name in builtin]
    params: list[Any] = list(builtin.values())
    merged_attributes = customer["attributes"]
    if attributes:
        merged = json.loads(customer["attributes"] or "{}")
        merged.update(attributes)
        merged_attributes = json.dumps(merged, sort_keys=True)
        assignments.append("attributes = ?")
        params.append(merged_attributes)
    assignments.append("updated_at = ?")
    params += [now, customer["account"]]
    conn.execute(f"UPDATE customers SET {', '.join(assignments)} WHERE account = ?", params)
    customer.update(builtin)
    customer["attributes"] = merged_attributes


def upsert_address(
    conn: sqlite3.Connection,
    account: str,
    address_id: str,
    changes: Values,
    now: str,
    *,
    create: bool,
) -> None:
    fields = {k: v for k, v in changes.items() if k in ADDRESS_COLUMNS}
    if fields.get("is_primary") in ("true", "1", "yes"):
        conn.execute(
            "UPDATE addresses SET is_primary = 'false' WHERE customer_account = ?"
            " AND address_id != ?",
            (account, address_id),
        )
    if create:
        columns = ["customer_account", "address_id", *fields, "created_at", "updated_at"]
        params: list[Any] = [account, address_id, *fields.values(), now, now]
        conn.execute(
            f"INSERT INTO addresses ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})",
            params,
        )
        return
    assignments = [f"{name} = ?" for name in fields] + ["updated_at = ?"]
    conn.execute(
        f"UPDATE addresses SET {', '.join(assignments)}"
        " WHERE customer_account = ? AND address_id = ?",
        [*fields.values(), now, account, address_id],
    )


def customer_record(conn: sqlite3.Connection, account: str) -> dict[str, Any]:
    """The HQ customer as distributed to channels and shown by ``customer show``."""
    return customer_records(conn, [account]).get(account, {})


def customer_records(conn: sqlite3.Connection, accounts: list[str]) -> dict[str, dict[str, Any]]:
    """``customer_record`` for many accounts with two queries per chunk instead of two each."""
    records: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(accounts))
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples, zipped with the names below
    address_keys = ("address_id", *ADDRESS_COLUMNS)
    for chunk in chunked(unique):
        marks = placeholders(len(chunk))
        addresses: dict[str, list[dict[str, Any]]] = {}
        for account, *address in cursor.execute(
            f"SELECT customer_account, {', '.join(address_keys)} FROM addresses"
            f" WHERE customer_account IN ({marks}) ORDER BY customer_account, address_id",
            chunk,
        ):
            addresses.setdefault(account, []).append(dict(zip(address_keys, address, strict=True)))
        for (
            account,
            async_account,
            channel,
            *values,
            attributes,
            created,
            updated,
        ) in cursor.execute(
            f"SELECT {CUSTOMER_SELECT}, created_at, updated_at FROM customers"
            f" WHERE account IN ({marks})",
            chunk,
        ):
            record: dict[str, Any] = {
                "customer_account": account,
                "async_account": async_account,
                "channel": channel,
            }
            record.update(zip(CUSTOMER_COLUMNS, values, strict=True))
            record["attributes"] = json.loads(attributes) if attributes not in (None, "{}") else {}
            record["addresses"] = addresses.get(account, [])
            record["created_at"] = created
            record["updated_at"] = updated
            records[account] = record
    return records
