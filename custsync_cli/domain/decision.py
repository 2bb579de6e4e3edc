"""How an operation applies to HQ: one decision tree for the sync job, edit's check and resync."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from custsync_cli.domain.models import FieldError, Operation, OperationType, Status
from custsync_cli.domain.validation import Validator

Values = dict[str, str | None]


class Action(StrEnum):
    """What the sync job does with an operation."""

    FAIL = "fail"
    WAIT = "wait"
    CREATE = "create"
    APPLY = "apply"


class HQLookups(Protocol):
    """What the decision needs to know about HQ and the other operations, answered now."""

    def customer(self, async_account: str) -> Mapping[str, Any] | None: ...

    def customer_values(self, customer: Mapping[str, Any]) -> Values: ...

    def address_values(self, account: str, address_id: str) -> Values | None: ...

    def dependency(
        self, op: Operation, create_kind: str, address_id: str | None
    ) -> tuple[int, str] | None:
        """The (id, status) of the first create of the same async customer (and address)."""
        ...

    def email_owner(self, email: str, except_account: str | None) -> str | None: ...

    def later_synced_fields(self, op: Operation) -> dict[str, int]:
        """Field -> the latest synced operation of the same customer, later than ``op``, that
        changed it."""
        ...

    def values_of(self, op_id: int) -> Values: ...


@dataclass
class Decision:
    """The outcome of deciding one operation, and everything the caller needs to carry it out.

    ``current`` is the HQ value each field had before the operation (set once validation has
    run against it); ``conflicts`` are fields a later synced operation already changed, which
    an apply keeps; ``waits_for`` is the create the operation is blocked behind.
    """

    action: Action
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    account: str | None = None
    current: Values | None = None
    waits_for: int | None = None
    wait_kind: str | None = None
    wait_status: str | None = None
    conflicts: dict[str, int] = field(default_factory=dict)

    def wait_message(self) -> str:
        return f"waits for operation {self.waits_for} ({self.wait_kind}, {self.wait_status})"


def decide(
    op: Operation,
    hq: HQLookups,
    validator: Validator,
    *,
    warn_duplicate_email: bool = False,
    forced: bool = False,
    preview: bool = False,
) -> Decision:
    """Decide how ``op`` applies to HQ as it is now.

    The sync job stops at a dependency it must wait for. A ``preview`` (edit's verdict, which
    tells the operator whether the operation would pass) validates on against the values the
    awaited create would give, and keeps ``waits_for`` to say what it still waits for.
    """
    kind = op.kind
    if kind is None:
        return Decision(Action.FAIL, validator.check(None, op.operation, op.values, None))
    customer = hq.customer(op.async_account)
    if kind is OperationType.CREATE_CUSTOMER:
        if customer is not None:
            owner = str(customer["account"])
            return Decision(
                Action.FAIL, [customer_exists_error(op.async_account, owner)], account=owner
            )
        decision = Decision(Action.CREATE)
        _validate(decision, op, kind, hq, validator, None, warn_duplicate_email)
        return decision
    decision = Decision(Action.APPLY)
    account = str(customer["account"]) if customer is not None else None
    decision.account = account
    if customer is None and not _wait(decision, op, hq, "create_customer", None, preview):
        return decision
    current: Values | None = None
    if kind is OperationType.UPDATE_CUSTOMER:
        if customer is not None:
            current = hq.customer_values(customer)
        elif decision.waits_for is not None:
            current = hq.values_of(decision.waits_for)
    else:
        address_id = op.values.get("address_id") or ""
        if account and address_id:
            current = hq.address_values(account, address_id)
        if kind is OperationType.CREATE_ADDRESS and current is not None:
            decision.action = Action.FAIL
            decision.errors = [address_exists_error(address_id, account)]
            return decision
        if kind is OperationType.UPDATE_ADDRESS and address_id and current is None:
            if not _wait(decision, op, hq, "create_address", address_id, preview):
                return decision
            if decision.waits_for is not None:
                current = hq.values_of(decision.waits_for)
    decision.current = current
    _validate(decision, op, kind, hq, validator, account, warn_duplicate_email)
    if decision.action is Action.APPLY and not forced:
        decision.conflicts = newer_fields(op, hq)
    return decision


def newer_fields(op: Operation, hq: HQLookups) -> dict[str, int]:
    """Field -> the later synced operation that changed it: an apply of ``op`` keeps that
    newer value unless forced (the conflicts a resync reports). A create has none."""
    if op.kind is OperationType.CREATE_CUSTOMER:
        return {}
    return {
        name: by
        for name, by in hq.later_synced_fields(op).items()
        if name in op.values and name != "address_id"
    }


def conflicts_json(conflicts: Mapping[str, int]) -> list[dict[str, Any]]:
    """The ``conflicts`` key of the JSON outputs: ``{field, kept_from_operation}`` by field."""
    return [{"field": name, "kept_from_operation": by} for name, by in sorted(conflicts.items())]


def _validate(
    decision: Decision,
    op: Operation,
    kind: OperationType,
    hq: HQLookups,
    validator: Validator,
    account: str | None,
    warn_duplicate_email: bool,
) -> None:
    decision.errors = validator.check(kind, op.operation, op.values, decision.current)
    email = op.values.get("email")
    owner = hq.email_owner(email, account) if email else None
    if email and owner is not None:
        duplicate = duplicate_email_error(email, owner)
        (decision.warnings if warn_duplicate_email else decision.errors).append(duplicate)
    if decision.errors:
        decision.action = Action.FAIL


def _wait(
    decision: Decision,
    op: Operation,
    hq: HQLookups,
    create_kind: str,
    address_id: str | None,
    preview: bool,
) -> bool:
    """Record the create ``op`` waits for; False when the decision is final (fail or wait)."""
    found = hq.dependency(op, create_kind, address_id)
    if found is None:
        decision.action = Action.FAIL
        decision.errors = [missing_dependency_error(op, address_id)]
        return False
    waits_for, status = found
    if status == Status.DISCARDED:
        decision.action = Action.FAIL
        decision.errors = [discarded_dependency_error(waits_for, create_kind)]
        return False
    if not preview:
        decision.action = Action.WAIT
    elif status == Status.SYNCED:
        return True
    decision.waits_for, decision.wait_kind, decision.wait_status = waits_for, create_kind, status
    return preview


def customer_exists_error(async_account: str, account: str) -> FieldError:
    return FieldError(
        "async_account",
        "customer_exists",
        f"async customer {async_account} already has HQ account {account}",
    )


def address_exists_error(address_id: str, account: str | None) -> FieldError:
    return FieldError(
        "address_id",
        "address_exists",
        f"address {address_id} already exists for customer {account}",
    )


def duplicate_email_error(email: str, owner: str) -> FieldError:
    return FieldError(
        "email", "duplicate_email", f"email {email} is already used: possible duplicate of {owner}"
    )


def missing_dependency_error(op: Operation, address_id: str | None) -> FieldError:
    if address_id is None:
        return FieldError(
            "async_account",
            "unknown_customer",
            f"HQ has never seen async customer {op.async_account}",
        )
    return FieldError(
        "address_id",
        "unknown_address",
        f"customer has no address {address_id} and no operation creates it",
    )


def discarded_dependency_error(waits_for: int, create_kind: str) -> FieldError:
    return FieldError(
        "operation",
        "dependency_discarded",
        f"operation {waits_for} ({create_kind}) that this one depends on was discarded",
    )
