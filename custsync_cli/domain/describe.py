"""Plain-sentence change descriptions of an operation, as a store manager would say them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_LISTED = 6


def short_time(stamp: str | None) -> str:
    """``2026-11-20T14:02:31.123Z`` as ``2026-11-20 14:02`` (UTC)."""
    if not stamp:
        return ""
    return f"{stamp[:10]} {stamp[11:16]}".strip()


def plural(count: int, noun: str) -> str:
    """``1 field``, ``2 fields``: a count and its noun."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _shown(value: Any) -> str:
    return "empty" if value is None or value == "" else str(value)


def _join(items: Sequence[str]) -> str:
    if len(items) > MAX_LISTED:
        rest = len(items) - MAX_LISTED + 1
        items = [*items[: MAX_LISTED - 1], f"{rest} more fields"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _where_when(op: Mapping[str, Any]) -> str:
    text = f" on {op['channel']} at {short_time(op['timestamp'])}"
    if op.get("created_by"):
        text += f" by user {op['created_by']}"
    return text


def _values(fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {f["name"]: f["new"] for f in fields if f.get("sent", True) and not f.get("dropped")}


def customer_name(values: Mapping[str, Any]) -> str:
    """The person's full name or the organization's name, whichever the values hold."""
    if values.get("type") == "organization" or (
        values.get("organization_name") and not values.get("last_name")
    ):
        return str(values.get("organization_name") or "").strip()
    parts = (values.get(name) for name in ("first_name", "middle_name", "last_name"))
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


def _changes(fields: Sequence[Mapping[str, Any]], skip: frozenset[str]) -> list[str]:
    items: list[str] = []
    for f in fields:
        if not f.get("sent", True) or f.get("dropped") or f["name"] in skip:
            continue
        old, new = f.get("old"), f.get("new")
        if (old or None) == (new or None):
            continue
        if old is None or old == "":
            items.append(f"{f['name']} to {_shown(new)}")
        else:
            items.append(f"{f['name']} from {_shown(old)} to {_shown(new)}")
    return items


def _what_happened(op: Mapping[str, Any], fields: Sequence[Mapping[str, Any]]) -> str:
    kind = op["operation"]
    values = _values(fields)
    where = _where_when(op)
    if kind == "create_customer":
        kind_word = f"{values['type']} customer" if values.get("type") else "customer"
        name = customer_name(values)
        named = f" {name}" if name else ""
        return f"Created {kind_word}{named} with {plural(len(values), 'field')}{where}."
    if kind == "update_customer":
        items = _changes(fields, frozenset())
        if not items:
            sent = ", ".join(sorted(values)) or "no fields"
            return f"Sent {sent} without any change to the HQ values{where}."
        return f"Changed {_join(items)}{where}."
    if kind == "create_address":
        purpose = f"{values['purpose']} " if values.get("purpose") else ""
        parts = [
            values.get("street"),
            " ".join(str(v) for v in (values.get("zip_code"), values.get("city")) if v),
            values.get("country"),
        ]
        place = ", ".join(str(p) for p in parts if p)
        label = f" {values['address_id']}" if values.get("address_id") else ""
        target = f" for customer {op['customer_account']}" if op.get("customer_account") else ""
        shown = f" ({place})" if place else ""
        return f"Added {purpose}address{label}{shown}{target}{where}."
    if kind == "update_address":
        items = _changes(fields, frozenset({"address_id"}))
        label = values.get("address_id") or op.get("address_id") or ""
        if not items:
            return f"Sent address {label} without any change to the HQ values{where}.".replace(
                "  ", " "
            )
        return f"Changed address {label}: {_join(items)}{where}."
    return f"Received an operation of unknown type '{kind}'{where}."


def _operator_edits(fields: Sequence[Mapping[str, Any]]) -> list[str]:
    edited = [
        f"{f['name']} from {_shown(f.get('channel_value'))} (as the channel sent it)"
        f" to {_shown(f.get('new'))}"
        for f in fields
        if f.get("edited") and not f.get("dropped")
    ]
    dropped = [f["name"] for f in fields if f.get("dropped")]
    sentences = []
    if edited:
        sentences.append(f"An operator changed {_join(edited)}.")
    if dropped:
        sentences.append(f"An operator dropped {_join(dropped)}.")
    return sentences


def _conflicts(fields: Sequence[Mapping[str, Any]]) -> list[str]:
    kept = [
        f"{f['name']} (from operation {f['conflict_with']})"
        for f in fields
        if f.get("conflict_with") is not None
    ]
    if not kept:
        return []
    return [f"Kept the newer HQ value of {_join(kept)} instead of this older one."]


def _status(op: Mapping[str, Any], errors: Sequence[Mapping[str, Any]]) -> str:
    status = op["status"]
    if status == "failed":
        reasons = "; ".join(e["message"] for e in errors) or op.get("last_error") or "no reason"
        return _sentence(f"Sync failed: {reasons}")
    if status == "blocked":
        if op.get("last_error"):
            return _sentence(f"Blocked: {op['last_error']}")
        return f"Blocked behind operation {op.get('blocked_by')}."
    if status == "pending":
        return "Waiting for the next sync run."
    if status == "discarded":
        return _sentence(f"Discarded: {op.get('discard_reason') or 'no reason given'}")
    if status == "synced":
        return _synced(op)
    return f"Status {status}."


def _synced(op: Mapping[str, Any]) -> str:
    """How a synced operation reached HQ (synced, or linked to a customer), and the channel."""
    if op.get("linked_by"):
        text = f"Linked to existing customer {op.get('customer_account')} by {op['linked_by']}"
    else:
        text = "Synced to HQ"
        if op.get("customer_account"):
            text += f" as customer {op['customer_account']}"
    if op.get("synced_at"):
        text += f" at {short_time(op['synced_at'])}"
    if op.get("distributed_at"):
        text += f"; the channel has had it since {short_time(op['distributed_at'])}"
    else:
        text += "; not yet distributed to the channel"
    return text + "."


def describe_operation(
    op: Mapping[str, Any],
    fields: Sequence[Mapping[str, Any]],
    errors: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Sentences: what the channel user did, operator edits, conflicts, and where it stands.

    ``op`` holds the operation's columns; ``fields`` the grid rows (name, old, new,
    channel_value, edited, dropped, conflict_with); ``errors`` the {field, code, message}s.
    """
    return [
        _what_happened(op, fields),
        *_operator_edits(fields),
        *_conflicts(fields),
        _status(op, errors),
    ]


def _change_text(item: Any) -> str:
    if isinstance(item, Mapping):
        name = item.get("field") or item.get("name") or "?"
        if item.get("unset"):
            return f"{name} unset (was {_shown(item.get('old'))})"
        if "old" in item or "new" in item:
            return f"{name}: {_shown(item.get('old'))} -> {_shown(item.get('new'))}"
        if "message" in item:
            return str(item["message"])
        return ", ".join(f"{k}={v}" for k, v in item.items())
    return str(item)


def describe_event(action: str, details: Mapping[str, Any] | Any) -> str:
    """A one-line summary of an audit event's details for the history table."""
    if not isinstance(details, Mapping):
        return str(details)
    if action == "pulled":
        count = len(details.get("fields", []))
        text = f"counter {details.get('replication_counter')}, {plural(count, 'field')}"
        if details.get("errors"):
            text += "; " + "; ".join(_change_text(e) for e in details["errors"])
        return text
    if action == "sync_failed":
        return "; ".join(_change_text(e) for e in details.get("errors", []))
    if action == "blocked":
        return f"waits for operation {details.get('waits_for')}"
    if action == "released":
        return f"released by operation {details.get('released_by')}"
    if action == "distributed":
        return f"account {details.get('customer_account')} written to the channel"
    if action == "synced":
        conflicts = details.get("conflicts") or []
        kept_names = {c.get("field") for c in conflicts}
        applied = [name for name in details.get("fields", []) if name not in kept_names]
        text = f"applied {', '.join(applied) or 'no fields'}"
        if conflicts:
            kept = ", ".join(
                f"{c.get('field')} (newer value from operation {c.get('kept_from_operation')})"
                for c in conflicts
            )
            text += f"; kept {kept}"
        return text
    if action == "linked":
        applied = sorted(details.get("applied") or {})
        text = f"linked to existing customer {details.get('customer_account')}"
        text += f"; applied {', '.join(applied)}" if applied else "; no fields applied"
        if details.get("released"):
            text += f"; released {plural(len(details['released']), 'operation')}"
        return text + f"; reason: {details.get('reason')}"
    if action == "resync_requested":
        text = f"back to pending from {details.get('from_status')}"
        return text + (", forcing stale fields" if details.get("force") else "")
    parts: list[str] = []
    if details.get("reason"):
        parts.append(f"reason: {details['reason']}")
    for key, value in details.items():
        if key in ("reason", "version"):
            continue
        if isinstance(value, list):
            shown = ", ".join(_change_text(v) for v in value)
        elif isinstance(value, Mapping):
            shown = ", ".join(
                _change_text({"field": k, **v}) if isinstance(v, Mapping) else f"{k}={v}"
                for k, v in value.items()
            )
        else:
            shown = _shown(value)
        unlabelled = key in ("fields", "changes", "errors") and isinstance(value, list)
        parts.append(shown if unlabelled else f"{key}: {shown}")
    return "; ".join(parts)
