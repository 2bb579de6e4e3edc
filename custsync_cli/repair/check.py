"""Would an operation pass the sync job now? The sync job's checks, changing nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from custsync_cli.config import Config
from custsync_cli.domain.decision import conflicts_json, decide
from custsync_cli.domain.models import FieldError, Operation
from custsync_cli.domain.validation import Validator
from custsync_cli.store.lookups import StoreLookups


@dataclass
class Verdict:
    """The errors the sync job would report now, and the create it would wait for, if any."""

    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    waits_for: int | None = None
    conflicts: dict[str, int] = field(default_factory=dict)

    @property
    def passes(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "would_pass": self.passes,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [e.as_dict() for e in self.warnings],
            "waits_for": self.waits_for,
            "conflicts": conflicts_json(self.conflicts),
        }

    def sentence(self) -> str:
        if self.errors:
            return "would still fail: " + "; ".join(e.message for e in self.errors)
        wait = f" once operation {self.waits_for} has synced" if self.waits_for else ""
        sentence = f"would now pass validation{wait}"
        if self.conflicts:
            kept = ", ".join(
                f"{name} (changed by operation {by})" for name, by in sorted(self.conflicts.items())
            )
            sentence += f"; a resync keeps the newer {kept} unless forced"
        return sentence


def check_operation(
    conn: sqlite3.Connection, config: Config, validator: Validator, op: Operation
) -> Verdict:
    """Decide ``op`` against HQ as it is now, as the sync job would, changing nothing."""
    (verdict,) = check_operations(conn, config, validator, [op])
    return verdict


def check_operations(
    conn: sqlite3.Connection, config: Config, validator: Validator, ops: list[Operation]
) -> list[Verdict]:
    """Decide ``ops`` in id order as one resync of them would, changing nothing.

    Each operation is decided with HQ as the earlier ones that pass would leave it: an email
    one of them gives its customer is taken for the later ones.
    """
    lookups = _BatchLookups(conn)
    verdicts: dict[int, Verdict] = {}
    for op in sorted(ops, key=lambda o: o.id):
        lookups.deciding = op
        decision = decide(
            op,
            lookups,
            validator,
            warn_duplicate_email=config.validation.warn_duplicate_email,
            preview=True,
        )
        email = op.values.get("email")
        if not decision.errors and email:
            owner = decision.account or f"operation {op.id}"
            lookups.taken.append((email.lower(), op.async_account, owner))
        verdicts[op.id] = Verdict(
            decision.errors, decision.warnings, decision.waits_for, decision.conflicts
        )
    return [verdicts[op.id] for op in ops]


class _BatchLookups(StoreLookups):
    """The store's answers, plus the emails earlier operations of the batch would take."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self.taken: list[tuple[str, str, str]] = []  # (email, async account, owner)
        self.deciding: Operation | None = None

    def email_owner(self, email: str, except_account: str | None) -> str | None:
        owner = super().email_owner(email, except_account)
        if owner is not None or self.deciding is None:
            return owner
        for taken, async_account, by in self.taken:
            if taken == email.lower() and async_account != self.deciding.async_account:
                return by
        return None
