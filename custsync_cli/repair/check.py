"""Would an operation pass the sync job now? The sync job's checks, changing nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.config import Config
from custsync_cli.domain.models import FieldError, Operation, OperationType, Status
from custsync_cli.domain.validation import Validator
from custsync_cli.jobs.sync import discarded_dependency_error, find_dependency
from custsync_cli.store import hq
from custsync_cli.store.operations import load_operation


@dataclass
class Verdict:
    """The errors the sync job would report now, and the create it would wait for, if any."""

    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    waits_for: int | None = None

    @property
    def passes(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "would_pass": self.passes,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [e.as_dict() for e in self.warnings],
            "waits_for": self.waits_for,
        }

    def sentence(self) -> str:
        if self.errors:
            return "would still fail: " + "; ".join(e.message for e in self.errors)
        wait = f" once operation {self.waits_for} has synced" if self.waits_for else ""
        return f"would now pass validation{wait}"


def check_operation(
    conn: sqlite3.Connection, config: Config, validator: Validator, op: Operation
) -> Verdict:
    """Validate ``op`` against HQ as it is now, as the sync job would."""
    kind = op.kind
    if kind is None:
        return Verdict(validator.check(None, op.operation, op.values, None))
    customer = hq.customer_by_async(conn, op.async_account)
    verdict = Verdict()
    if kind is OperationType.CREATE_CUSTOMER:
        if customer is not None:
            verdict.errors.append(
                FieldError(
                    "async_account",
                    "customer_exists",
                    f"async customer {op.async_account} already has HQ account"
                    f" {customer['account']}",
                )
            )
            return verdict
        verdict.errors = validator.check(kind, op.operation, op.values, None)
        _duplicate_email(conn, config, op, None, verdict)
        return verdict
    account = str(customer["account"]) if customer else None
    current: hq.Values | None = None
    if customer is None and not _wait_for(conn, op, "create_customer", None, verdict):
        return verdict
    if kind is OperationType.UPDATE_CUSTOMER:
        if customer is not None:
            current = hq.customer_values(customer)
        elif verdict.waits_for is not None:
            current = _values_of(conn, verdict.waits_for)
    else:
        address_id = op.values.get("address_id") or ""
        if account and address_id:
            current = hq.address_values(conn, account, address_id)
        if kind is OperationType.CREATE_ADDRESS and current is not None:
            verdict.errors.append(
                FieldError(
                    "address_id",
                    "address_exists",
                    f"address {address_id} already exists for customer {account}",
                )
            )
            return verdict
        if kind is OperationType.UPDATE_ADDRESS and address_id and current is None:
            if not _wait_for(conn, op, "create_address", address_id, verdict):
                return verdict
            if verdict.waits_for is not None:
                current = _values_of(conn, verdict.waits_for)
    verdict.errors = validator.check(kind, op.operation, op.values, current)
    _duplicate_email(conn, config, op, account, verdict)
    return verdict


def _wait_for(
    conn: sqlite3.Connection,
    op: Operation,
    create_kind: str,
    address_id: str | None,
    verdict: Verdict,
) -> bool:
    """Find the create ``op`` depends on (as the sync job does); False if it fails for that."""
    found = find_dependency(conn, op, create_kind, address_id)
    if isinstance(found, FieldError):
        verdict.errors.append(found)
        return False
    waits_for, status = found
    if status == Status.DISCARDED:
        verdict.errors.append(discarded_dependency_error(waits_for, create_kind))
        return False
    if status != Status.SYNCED:
        verdict.waits_for = waits_for
    return True


def _values_of(conn: sqlite3.Connection, op_id: int) -> hq.Values:
    found = load_operation(conn, op_id)
    return dict(found.values) if found else {}


def _duplicate_email(
    conn: sqlite3.Connection, config: Config, op: Operation, account: str | None, verdict: Verdict
) -> None:
    email = op.values.get("email")
    if not email:
        return
    owner = hq.email_owner(conn, email, account)
    if owner is None:
        return
    error = FieldError(
        "email", "duplicate_email", f"email {email} is already used: possible duplicate of {owner}"
    )
    if config.validation.duplicate_email == "warn":
        verdict.warnings.append(error)
    else:
        verdict.errors.append(error)
