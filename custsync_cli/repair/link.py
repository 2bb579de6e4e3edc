"""Link a failed create to an existing HQ customer: it ends synced onto that customer."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from custsync_cli.config import ChannelConfig
from custsync_cli.context import JobContext
from custsync_cli.domain.decision import conflicts_json, decide
from custsync_cli.domain.models import Operation, OperationType, Status
from custsync_cli.errors import CustsyncError, NotFoundError, UsageError
from custsync_cli.repair import rehearsing
from custsync_cli.repair.resync import ResyncReport, resync, resync_rehearsed
from custsync_cli.store import hq
from custsync_cli.store.audit import AuditEvent, append_events
from custsync_cli.store.links import later_customer_fields, mark_linked, release_dependants
from custsync_cli.store.lookups import StoreLookups
from custsync_cli.store.operations import load_operation
from custsync_cli.timeutil import utc_now


class NotLinkable(CustsyncError):
    """Only a failed create_customer can be linked, and only to a customer its async
    customer does not already have."""


@dataclass(frozen=True)
class Difference:
    """A field whose value in the operation differs from the HQ customer's."""

    field: str
    hq: str | None
    operation: str | None
    applied: bool = False
    kept_from_operation: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "hq": self.hq,
            "operation": self.operation,
            "applied": self.applied,
            "kept_from_operation": self.kept_from_operation,
        }


@dataclass
class LinkResult:
    """What a link did (or, for a dry run, would do)."""

    operation_id: int
    channel: str
    async_account: str
    customer_account: str
    released: list[int] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    apply_fields: bool = False
    dry_run: bool = False
    distributed: bool = False
    resync: ResyncReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.operation_id,
            "channel": self.channel,
            "async_account": self.async_account,
            "customer_account": self.customer_account,
            "released": self.released,
            "differences": [d.as_dict() for d in self.differences],
            "apply_fields": self.apply_fields,
            "dry_run": self.dry_run,
            "distributed": self.distributed,
            "resync": self.resync.as_dict() if self.resync else None,
        }


class _LinkLookups(StoreLookups):
    """The decision's questions, with newer values taken from every operation of the customer
    linked to, whichever async customer sent them."""

    def __init__(self, conn: sqlite3.Connection, account: str) -> None:
        super().__init__(conn)
        self.account = account

    def later_synced_fields(self, op: Operation) -> dict[str, int]:
        return later_customer_fields(self.conn, self.account, op)


def link_operation(
    ctx: JobContext,
    op_id: int,
    account: str,
    reason: str | None,
    *,
    apply_fields: bool = False,
) -> LinkResult:
    """In one transaction: ``op_id`` synced onto ``account``, its dependants released, and with
    ``apply_fields`` its differing values applied (checked; newer HQ values kept)."""
    if reason is None or not reason.strip():
        raise UsageError("a link needs --reason TEXT saying why (it goes into the audit log)")
    now = utc_now()
    with ctx.store.transaction() as conn:
        op = load_operation(conn, op_id) if 0 < op_id < 2**63 else None
        if op is None:
            raise NotFoundError(f"no operation {op_id} in the store")
        if op.kind is not OperationType.CREATE_CUSTOMER or op.status != Status.FAILED:
            raise NotLinkable(
                f"operation {op.id} is a {op.status} {op.operation}; only a failed"
                " create_customer can be linked to an existing customer"
            )
        customer = hq.customer_by_account(conn, account)
        if customer is None:
            raise NotFoundError(f"no HQ customer {account} (see 'custsync customer show')")
        owner = hq.customer_by_async(conn, op.async_account)
        if owner is not None:
            raise NotLinkable(
                f"async customer {op.async_account} already has HQ account {owner['account']};"
                f" discard operation {op.id} instead"
            )
        current = hq.customer_values(customer)
        differing = {name: value for name, value in op.values.items() if current.get(name) != value}
        mark_linked(conn, op, account, current, now)
        kept: dict[str, int] = {}
        if apply_fields and differing:
            kept = _check_fields(ctx, conn, op, account, differing)
            applied = {name: value for name, value in differing.items() if name not in kept}
            hq.update_customer(conn, customer, applied, now)
        else:
            applied = {}
        released = release_dependants(conn, op.id, now)
        differences = [
            Difference(name, current.get(name), value, name in applied, kept.get(name))
            for name, value in sorted(differing.items())
        ]
        details: dict[str, Any] = {
            "reason": reason.strip(),
            "customer_account": account,
            "fields": [
                {"field": d.field, "old": d.hq, "new": d.operation, "applied": d.applied}
                for d in differences
            ],
            "applied": applied,
            "released": released,
        }
        if kept:
            details["conflicts"] = conflicts_json(kept)
        event = AuditEvent(
            action="linked",
            actor=ctx.actor,
            at=now,
            operation_id=op.id,
            customer_account=account,
            channel=op.channel,
            details=details,
        )
        releases = [
            AuditEvent(
                action="released",
                actor=ctx.actor,
                at=now,
                operation_id=dependant,
                customer_account=account,
                channel=op.channel,
                details={"released_by": op.id},
            )
            for dependant in released
        ]
        append_events(conn, [event, *releases])
    return LinkResult(
        op.id,
        op.channel,
        op.async_account,
        account,
        released,
        differences,
        apply_fields=apply_fields,
    )


def _check_fields(
    ctx: JobContext,
    conn: sqlite3.Connection,
    op: Operation,
    account: str,
    differing: dict[str, str | None],
) -> dict[str, int]:
    """Decide the differing values as an update of the linked customer would be decided;
    refuse (nothing changes) if they would fail. The newer HQ values to keep, by field."""
    as_update = replace(op, operation=OperationType.UPDATE_CUSTOMER.value, values=differing)
    decision = decide(
        as_update,
        _LinkLookups(conn, account),
        ctx.validator,
        warn_duplicate_email=ctx.config.validation.warn_duplicate_email,
    )
    if decision.errors:
        raise NotLinkable(
            f"operation {op.id}'s values would fail on customer {account}: "
            + "; ".join(e.message for e in decision.errors)
            + "; nothing was linked (link without --apply-fields, or edit the operation first)"
        )
    return decision.conflicts


def link(
    ctx: JobContext,
    op_id: int,
    account: str,
    reason: str | None,
    *,
    channels: list[ChannelConfig],
    apply_fields: bool = False,
    resync_now: bool = False,
    dry_run: bool = False,
) -> LinkResult:
    """``link_operation``, then with ``resync_now`` sync its released dependants and distribute
    the account to the channel at once; ``dry_run`` does it all and rolls it back."""
    if dry_run:
        with rehearsing(ctx) as trial:
            result = link_operation(trial, op_id, account, reason, apply_fields=apply_fields)
            if resync_now and result.released:
                result.resync = resync_rehearsed(trial, result.released)
        result.dry_run = True
        return result
    result = link_operation(ctx, op_id, account, reason, apply_fields=apply_fields)
    if resync_now:
        from custsync_cli.jobs.distribute import distribute

        if result.released:
            result.resync = resync(ctx, result.released, channels=channels)
        distributed = distribute(ctx, channels, only={result.operation_id})
        result.distributed = result.channel not in distributed.skipped_channels and any(
            channel.name == result.channel for channel in channels
        )
    return result
