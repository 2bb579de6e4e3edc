"""Change descriptions and audit event summaries read as plain sentences."""

from __future__ import annotations

from typing import Any

from custsync_cli.domain.describe import describe_event, describe_operation, short_time


def op(**extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 7,
        "channel": "web-se",
        "operation": "update_customer",
        "status": "pending",
        "timestamp": "2026-11-20T14:02:31Z",
        "created_by": "u-1043",
        "customer_account": "C000123",
        "last_error": None,
        "blocked_by": None,
    }
    row.update(extra)
    return row


def field(name: str, new: Any, old: Any = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "old": old, "new": new, "channel_value": new, **extra}


def test_created_person() -> None:
    fields = [field("type", "person"), field("first_name", "Anna"), field("last_name", "Svensson")]
    sentences = describe_operation(op(operation="create_customer"), fields, [])
    assert sentences == [
        "Created person customer Anna Svensson with 3 fields on web-se at 2026-11-20 14:02"
        " by user u-1043.",
        "Waiting for the next sync run.",
    ]


def test_created_organization_without_user() -> None:
    fields = [field("type", "organization"), field("organization_name", "Acme AB")]
    (first, _) = describe_operation(op(operation="create_customer", created_by=None), fields, [])
    assert (
        first
        == "Created organization customer Acme AB with 2 fields on web-se at 2026-11-20 14:02."
    )


def test_changes_list_old_and_new_and_cut_after_six() -> None:
    fields = [field(f"f{i}", f"new{i}", f"old{i}") for i in range(8)]
    (first, _) = describe_operation(op(), fields, [])
    assert first.startswith("Changed f0 from old0 to new0, f1 from old1 to new1,")
    assert first.endswith("and 3 more fields on web-se at 2026-11-20 14:02 by user u-1043.")


def test_update_that_changes_nothing_says_so() -> None:
    (first, _) = describe_operation(op(), [field("email", "a@x.se", "a@x.se")], [])
    assert first.startswith("Sent email without any change to the HQ values")


def test_cleared_and_set_values() -> None:
    fields = [field("phone", "", "+46 70 1"), field("email", "b@x.se", None)]
    (first, _) = describe_operation(op(), fields, [])
    assert first.startswith("Changed phone from +46 70 1 to empty and email to b@x.se on web-se")


def test_failed_lists_every_error() -> None:
    errors = [
        {
            "field": "email",
            "code": "invalid_email",
            "message": "email 'anna@' is not a valid address",
        },
        {"field": "last_name", "code": "required", "message": "last_name is missing"},
    ]
    sentences = describe_operation(op(status="failed"), [], errors)
    assert (
        sentences[-1] == "Sync failed: email 'anna@' is not a valid address; last_name is missing."
    )


def test_update_address_and_unknown_kind() -> None:
    fields = [field("address_id", "A1"), field("city", "Malmö", "Lund")]
    (first, _) = describe_operation(op(operation="update_address"), fields, [])
    assert first.startswith("Changed address A1: city from Lund to Malmö on web-se")
    (odd, _) = describe_operation(op(operation="merge_customer"), [], [])
    assert odd.startswith("Received an operation of unknown type 'merge_customer'")


def test_synced_and_distributed() -> None:
    row = op(status="synced", synced_at="2026-11-20T15:00:01.5Z", distributed_at=None)
    assert describe_operation(row, [], [])[-1] == (
        "Synced to HQ as customer C000123 at 2026-11-20 15:00; not yet distributed to the channel."
    )


def test_short_time() -> None:
    assert short_time("2026-11-20T14:02:31.123456Z") == "2026-11-20 14:02"
    assert short_time(None) == ""


def test_event_summaries() -> None:
    edited = {
        "reason": "typo",
        "version": 2,
        "fields": [
            {"field": "email", "old": "bob@", "new": "bob@x.se", "unset": False},
            {"field": "zip_code", "old": "111", "new": None, "unset": True},
        ],
    }
    assert describe_event("edited", edited) == (
        "reason: typo; email: bob@ -> bob@x.se, zip_code unset (was 111)"
    )
    assert describe_event("blocked", {"waits_for": 4}) == "waits for operation 4"
    assert describe_event("resync_requested", {"from_status": "failed", "force": True}) == (
        "back to pending from failed, forcing stale fields"
    )
    synced = {"fields": ["phone"], "conflicts": [{"field": "phone", "kept_from_operation": 9}]}
    assert describe_event("synced", synced) == (
        "applied no fields; kept phone (newer value from operation 9)"
    )
