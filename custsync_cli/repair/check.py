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
    decision = decide(
        op,
        StoreLookups(conn),
        validator,
        warn_duplicate_email=config.validation.warn_duplicate_email,
        preview=True,
    )
    return Verdict(decision.errors, decision.warnings, decision.waits_for, decision.conflicts)
