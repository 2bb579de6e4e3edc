"""The repair library against real stores: edit, verdicts, resync, dry runs, discard."""

from __future__ import annotations

import pytest

from custsync_cli.errors import ConflictError, NotFoundError, UsageError
from custsync_cli.repair import NotRepairable
from custsync_cli.repair.discard import discard
from custsync_cli.repair.edit import bulk_edit, edit_operation, parse_assignments
from custsync_cli.repair.editor import DocumentError, build_document, parse_document
from custsync_cli.repair.resync import resync
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.operations import load_operation
from tests.helpers import Workspace, address, person
from tests.repair import scenarios as sc


def test_edit_keeps_the_channel_value_bumps_the_version_and_audits(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.operation(workspace, chain.create)
    with sc.job_context(workspace, actor="maria") as ctx:
        result = edit_operation(
            ctx, chain.create, {"email": "anna.svensson@example.se"}, [], "typo, confirmed"
        )
    assert result.verdict.passes and result.verdict.errors == []
    assert [c.as_dict() for c in result.changes] == [
        {
            "field": "email",
            "old": "anna.svensson@",
            "new": "anna.svensson@example.se",
            "unset": False,
        }
    ]
    after = sc.operation(workspace, chain.create)
    assert after["status"] == "failed"
    assert after["version"] == before["version"] + 1 == result.version
    email = sc.fields(workspace, chain.create)["email"]
    assert email["channel_value"] == "anna.svensson@"
    assert email["new_value"] == "anna.svensson@example.se"
    assert email["edited"] == 1
    (event,) = sc.events(workspace, chain.create, "edited")
    assert event["actor"] == "maria"
    assert event["details"]["reason"] == "typo, confirmed"
    assert event["details"]["fields"][0]["old"] == "anna.svensson@"


def test_edit_says_why_it_would_still_fail(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        result = edit_operation(
            ctx, chain.create, {"email": "erik.lund@example.se", "last_name": ""}, [], "try"
        )
    codes = sorted(e.code for e in result.verdict.errors)
    assert codes == ["duplicate_email", "required"]
    assert "possible duplicate of C000001" in result.verdict.sentence()


def test_edit_of_a_blocked_update_validates_against_the_pending_create(
    workspace: Workspace,
) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        good = edit_operation(ctx, chain.update, {"phone": "+46 8 123 456"}, [], "new number")
        bad = edit_operation(ctx, chain.update, {"phone": "call me"}, [], "oops")
    assert good.verdict.passes and good.verdict.waits_for == chain.create
    assert "once operation" in good.verdict.sentence()
    assert [e.code for e in bad.verdict.errors] == ["invalid_phone"]


def test_unset_drops_a_field_and_set_adds_one(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        result = edit_operation(ctx, chain.create, {"customer_group": "VIP"}, ["email"], "why")
        op = load_operation(ctx.store.conn, chain.create)
    assert op is not None
    assert "email" not in op.values and op.values["customer_group"] == "VIP"
    assert result.verdict.passes
    rows = sc.fields(workspace, chain.create)
    assert rows["email"]["dropped"] == 1 and rows["email"]["new_value"] == "anna.svensson@"
    assert rows["customer_group"]["channel_value"] is None


def test_edit_refusals_change_nothing(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    before = sc.dump(workspace)
    with sc.job_context(workspace) as ctx:
        with pytest.raises(NotRepairable, match="is synced"):
            edit_operation(ctx, chain.erik, {"email": "x@example.se"}, [], "r")
        with pytest.raises(UsageError, match="valid fields: type, first_name"):
            edit_operation(ctx, chain.create, {"colour": "red"}, [], "r")
        with pytest.raises(UsageError, match="--reason"):
            edit_operation(ctx, chain.create, {"email": "x@example.se"}, [], "  ")
        with pytest.raises(NotFoundError):
            edit_operation(ctx, 999, {"email": "x@example.se"}, [], "r")
        with pytest.raises(ConflictError, match="changed since you opened it"):
            edit_operation(ctx, chain.create, {"email": "x@example.se"}, [], "r", expect_version=0)
        with pytest.raises(UsageError, match="both set and unset"):
            edit_operation(ctx, chain.create, {"email": "x@example.se"}, ["email"], "r")
    with pytest.raises(UsageError):
        parse_assignments(["email"])
    assert sc.dump(workspace) == before


def test_bulk_edit_writes_one_event_per_operation(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    for n in range(3):
        web.add(f"guid-{n}", "create_customer", person(f"P{n}", "Lund", country="SVE"))
    sc.run_jobs(workspace)
    ids = [sc.op_id(workspace, f"guid-{n}", "create_customer") for n in range(3)]
    with sc.job_context(workspace) as ctx:
        results = bulk_edit(ctx, ids, {}, ["country"], "no such field on customers")
    assert [r.verdict.passes for r in results] == [True, True, True]
    assert len(sc.events(workspace, action="edited")) == 3


def test_editor_document_round_trip(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        op = load_operation(ctx.store.conn, chain.create)
        assert op is not None
        catalogue = ctx.validator.catalogue
        text = build_document(op, [], catalogue, None)
        assert parse_document(text, op, catalogue) == ({}, [], "")
        edited = text.replace("anna.svensson@\n", "anna@example.se\n").replace(
            "reason: ''", "reason: fixed"
        )
        edited = edited.replace("  language: sv-SE\n", "  zip: '01234'\n")
        with pytest.raises(DocumentError, match="unknown field 'zip'"):
            parse_document(edited, op, catalogue)
        edited = edited.replace("zip:", "customer_group:")
        sets, unsets, reason = parse_document(edited, op, catalogue)
    assert sets == {"email": "anna@example.se", "customer_group": "01234"}
    assert unsets == ["language"] and reason == "fixed"
    with pytest.raises(DocumentError, match="not valid YAML"):
        parse_document("fields: [unclosed", op, catalogue)
    twice = edited.replace("reason: fixed", "reason: fixed\nreason: again")
    with pytest.raises(DocumentError, match="duplicate key 'reason' on line"):
        parse_document(twice, op, catalogue)


def test_resync_syncs_the_create_and_releases_its_update(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        edit_operation(ctx, chain.create, {"email": "anna.svensson@example.se"}, [], "fix")
        report = resync(ctx, [chain.create], channels=list(ctx.config.channels))
    assert report.all_synced
    statuses = {o.id: (o.status, o.released_by, o.distributed) for o in report.operations}
    assert statuses == {
        chain.create: ("synced", None, True),
        chain.update: ("synced", chain.create, True),
    }
    anna = sc.customer(workspace, sc.ANNA)
    assert anna is not None and anna["email"] == "anna.svensson@example.se"
    assert anna["phone"] == "+46 70 555 12 34"
    assert workspace.channel("web-se").customers()[sc.ANNA]["customer_account"] == anna["account"]
    assert sc.events(workspace, chain.create, "resync_requested")
    conn = workspace.store()
    assert verify_chain(conn).ok
    conn.close()


def test_resync_reports_a_conflict_and_force_overwrites(workspace: Workspace) -> None:
    case = sc.conflict(workspace)
    with sc.job_context(workspace) as ctx:
        edit_operation(ctx, case.older, {"phone": "+46 70 111 22 33"}, [], "right number")
        report = resync(ctx, [case.older], channels=list(ctx.config.channels))
    (outcome,) = report.operations
    assert outcome.status == "synced"
    assert [c.as_dict() for c in outcome.conflicts] == [
        {
            "field": "email",
            "wanted": "maja.old@example.se",
            "kept": "maja.new@example.se",
            "kept_from_operation": case.newer,
        }
    ]
    maja = sc.customer(workspace, sc.MAJA)
    assert maja is not None
    assert maja["email"] == "maja.new@example.se" and maja["phone"] == "+46 70 111 22 33"


def test_resync_force_overwrites_the_newer_value(workspace: Workspace) -> None:
    case = sc.conflict(workspace)
    with sc.job_context(workspace) as ctx:
        edit_operation(ctx, case.older, {"phone": "+46 70 111 22 33"}, [], "right number")
        report = resync(ctx, [case.older], channels=list(ctx.config.channels), force=True)
    assert report.operations[0].conflicts == []
    maja = sc.customer(workspace, sc.MAJA)
    assert maja is not None and maja["email"] == "maja.old@example.se"


def test_dry_run_leaves_the_store_exactly_as_it_was(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    case = sc.conflict(workspace)
    with sc.job_context(workspace) as ctx:
        edit_operation(ctx, chain.create, {"email": "anna.svensson@example.se"}, [], "fix")
        before = sc.dump(workspace)
        report = resync(
            ctx, [chain.create, case.older], channels=list(ctx.config.channels), dry_run=True
        )
    assert sc.dump(workspace) == before
    outcomes = {o.id: o for o in report.operations}
    assert outcomes[chain.create].status == "synced"
    assert outcomes[chain.update].status == "synced"
    assert outcomes[case.older].status == "failed"
    assert outcomes[case.older].errors[0]["code"] == "invalid_phone"
    assert not any(o.distributed for o in report.operations)
    assert workspace.channel("web-se").customers().get(sc.ANNA, {}).get("customer_account") is None


def test_discard_fails_the_blocked_dependants(workspace: Workspace) -> None:
    chain = sc.failed_chain(workspace)
    with sc.job_context(workspace) as ctx:
        (result,) = discard(ctx, [chain.create], "test customer")
        with pytest.raises(NotRepairable, match="is discarded"):
            discard(ctx, [chain.create], "again")
        with pytest.raises(NotRepairable, match="is synced"):
            discard(ctx, [chain.erik], "no")
    assert result.failed_dependants == [chain.update]
    assert sc.operation(workspace, chain.create)["discard_reason"] == "test customer"
    update = sc.operation(workspace, chain.update)
    assert update["status"] == "failed" and update["blocked_by"] is None
    conn = workspace.store()
    codes = [
        r[0]
        for r in conn.execute(
            "SELECT code FROM operation_errors WHERE operation_id = ?", (chain.update,)
        )
    ]
    conn.close()
    assert codes == ["dependency_discarded"]
    assert (
        sc.events(workspace, chain.create, "discarded")[0]["details"]["reason"] == "test customer"
    )
    assert (
        sc.events(workspace, chain.update, "sync_failed")[-1]["details"]["discarded"]
        == chain.create
    )


def test_an_edited_pending_operation_syncs_with_the_edited_value(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add("late-1", "create_customer", person("Lena", "Ek"))
    with sc.job_context(workspace) as ctx:
        from custsync_cli.jobs.pull import pull

        pull(ctx, list(ctx.config.channels))
    op = sc.op_id(workspace, "late-1", "create_customer")
    with sc.job_context(workspace) as ctx:
        result = edit_operation(ctx, op, {"customer_group": "STAFF"}, [], "employee discount")
    assert result.status == "pending" and result.verdict.passes
    sc.run_jobs(workspace)
    lena = sc.customer(workspace, "late-1")
    assert lena is not None and lena["customer_group"] == "STAFF"


def test_address_edits_follow_the_address_id(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add("home-1", "create_customer", person("Ola", "Lind"))
    web.add("home-1", "create_address", address("A1", country="SVE"))
    web.add("home-1", "update_address", {"address_id": "A1", "city": "Malmö"})
    web.add("ghost-1", "update_customer", {"phone": "+46 8 1234567"})
    sc.run_jobs(workspace)
    create = sc.op_id(workspace, "home-1", "create_address")
    update = sc.op_id(workspace, "home-1", "update_address")
    ghost = sc.op_id(workspace, "ghost-1", "update_customer")
    with sc.job_context(workspace) as ctx:
        waiting = edit_operation(ctx, update, {"city": "Lund"}, [], "r")
        fixed = edit_operation(ctx, create, {"country": "SWE"}, [], "r")
        unknown = edit_operation(ctx, ghost, {"phone": "+46 8 7654321"}, [], "r")
    assert waiting.verdict.waits_for == create and waiting.verdict.passes
    assert fixed.verdict.passes
    assert [e.code for e in unknown.verdict.errors] == ["unknown_customer"]
    with sc.job_context(workspace) as ctx:
        moved = edit_operation(ctx, create, {"address_id": "HOME"}, [], "r")
        orphan = edit_operation(ctx, update, {"city": "Ystad"}, [], "r")
    assert moved.verdict.passes
    assert sc.operation(workspace, create)["address_id"] == "HOME"
    assert [e.code for e in orphan.verdict.errors] == ["unknown_address"]
    with sc.job_context(workspace) as ctx:
        (result,) = discard(ctx, [create], "wrong address")
    assert result.failed_dependants == [update]
    assert sc.operation(workspace, update)["last_error"] == (
        f"operation {create} (create_address) that this one depends on was discarded"
    )
