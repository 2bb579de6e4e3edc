"""Operation types, statuses and the value objects passed between store and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OperationType(StrEnum):
    """The four "Retail async operation" kinds a channel can send."""

    CREATE_CUSTOMER = "create_customer"
    UPDATE_CUSTOMER = "update_customer"
    CREATE_ADDRESS = "create_address"
    UPDATE_ADDRESS = "update_address"

    @property
    def is_address(self) -> bool:
        return self in (OperationType.CREATE_ADDRESS, OperationType.UPDATE_ADDRESS)

    @property
    def is_create(self) -> bool:
        return self in (OperationType.CREATE_CUSTOMER, OperationType.CREATE_ADDRESS)


class Status(StrEnum):
    """The "Customer sync status" of an operation."""

    PENDING = "pending"
    BLOCKED = "blocked"
    FAILED = "failed"
    SYNCED = "synced"
    DISCARDED = "discarded"


EDITABLE_STATUSES = frozenset({Status.PENDING, Status.BLOCKED, Status.FAILED})
FINAL_STATUSES = frozenset({Status.SYNCED, Status.DISCARDED})


@dataclass(frozen=True)
class FieldError:
    """One validation failure: which field, a stable code and a plain sentence."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class Operation:
    """An operation as the jobs and repair commands see it."""

    id: int
    channel: str
    replication_counter: int
    operation: str
    async_account: str
    address_id: str | None
    customer_account: str | None
    status: str
    timestamp: str
    created_by: str | None
    attempts: int
    last_error: str | None
    blocked_by: int | None
    version: int
    values: dict[str, str | None] = field(default_factory=dict)

    @property
    def kind(self) -> OperationType | None:
        try:
            return OperationType(self.operation)
        except ValueError:
            return None


def summarize_errors(errors: list[FieldError]) -> str | None:
    """The one-line ``last_error`` shown in lists: every message, joined."""
    if not errors:
        return None
    return "; ".join(error.message for error in errors)
