"""Shell completion of option values, through the same protocol bash uses."""

from __future__ import annotations

from tests.conftest import Invoke
from tests.helpers import Workspace, person


def complete(ws: Workspace, line: str) -> list[str]:
    words = line.split(" ")
    env = ws.env(
        _CUSTSYNC_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1)
    )
    result = ws.run(env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_channels_statuses_fields_codes_and_jobs(workspace: Workspace, cli: Invoke) -> None:
    workspace.channel("web-se").add("a-1", "create_customer", person(email="bad@"))
    workspace.channel("store-042")
    workspace.write_config(attributes=[{"name": "loyalty_tier", "type": "text"}])
    assert cli("run-jobs").exit_code == 0
    assert complete(workspace, "custsync list --channel ") == ["web-se", "store-042"]
    assert complete(workspace, "custsync list --status f") == ["failed"]
    assert complete(workspace, "custsync list --where coun") == ["county=", "country="]
    assert complete(workspace, "custsync list --where loy") == ["loyalty_tier="]
    assert complete(workspace, "custsync resync --error-code invalid_e") == ["invalid_email"]
    assert complete(workspace, "custsync jobs --job d") == ["distribute"]


def test_completion_without_a_config_offers_nothing_and_never_fails(workspace: Workspace) -> None:
    workspace.config_path.write_text("store: [unclosed", encoding="utf-8")
    assert complete(workspace, "custsync list --channel ") == []
    assert complete(workspace, "custsync list --status p") == ["pending"]


def test_failed_operation_ids_for_commands_that_take_op(workspace: Workspace, cli: Invoke) -> None:
    from custsync_cli.cli.completion import complete_failed_operation

    web = workspace.channel("web-se")
    web.add("a-1", "create_customer", person())
    web.add("a-2", "create_customer", person("Erik", "Lund", email="erik@"))
    assert cli("run-jobs").exit_code == 0
    assert complete_failed_operation(None, "") == [("2", "email 'erik@' is not a valid address")]
    assert complete_failed_operation(None, "1") == []
    for command in ("show", "edit", "resync", "discard"):
        assert complete(workspace, f"custsync {command} ") == ["2"]


def test_edit_set_and_unset_complete_field_names(workspace: Workspace) -> None:
    workspace.write_config(attributes=[{"name": "loyalty_tier", "type": "text"}])
    assert complete(workspace, "custsync edit 12 --set ema") == ["email="]
    assert complete(workspace, "custsync edit --status failed --set loy") == ["loyalty_tier="]
    assert complete(workspace, "custsync edit 12 --set email=") == []
    assert complete(workspace, "custsync edit 12 --unset coun") == ["county", "country"]
    assert complete(workspace, "custsync edit 12 --unset loyalty") == ["loyalty_tier"]
