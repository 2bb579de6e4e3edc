"""Saved views: config ``views:``, ``--view NAME`` on the filtering commands, ``views``."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import Workspace, person


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    """Failed and blocked operations on two channels, synced ones on both."""
    web, till = workspace.channel("web-se"), workspace.channel("store-042")
    web.add("w-1", "create_customer", person("Web", "Bad", email="bad@"))
    web.add("w-1", "update_customer", {"phone": "+46 70 111 22 33"})
    web.add("w-2", "create_customer", person("Web", "Good"))
    till.add("t-1", "create_customer", person("Till", "Bad", email="till@"))
    till.add("t-2", "create_customer", person("Till", "Good"))
    workspace.write_config(
        views={
            "broken-web": "--status failed --channel web-se",
            "web-until": "--channel=web-se --until 2030-01-01 --error 'a valid address'",
        }
    )
    assert workspace.run("run-jobs").returncode == 0
    return workspace


def listed(ws: Workspace, *args: str) -> list[tuple[str, str, str]]:
    done = ws.run("list", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return sorted(
        (op["channel"], op["async_account"], op["status"]) for op in json.loads(done.stdout)
    )


def test_a_view_lists_what_its_options_list_and_combines_with_more_filters(shop: Workspace) -> None:
    assert listed(shop, "--view", "broken-web") == [("web-se", "w-1", "failed")]
    assert listed(shop, "--view", "broken-web") == listed(
        shop, "--status", "failed", "--channel", "web-se"
    )
    # A repeatable filter adds to the view's values...
    assert listed(shop, "--view", "broken-web", "--status", "blocked") == [
        ("web-se", "w-1", "blocked"),
        ("web-se", "w-1", "failed"),
    ]
    assert listed(shop, "--view", "broken-web", "--channel", "store-042") == [
        ("store-042", "t-1", "failed"),
        ("web-se", "w-1", "failed"),
    ]
    # ...a single-valued one given on the command line replaces the view's.
    assert listed(shop, "--view", "web-until", "--until", "2000-01-01") == []
    assert listed(shop, "--view", "web-until") == [("web-se", "w-1", "failed")]


def test_the_repair_commands_take_views(shop: Workspace) -> None:
    resync = shop.run("resync", "--view", "broken-web", "--dry-run", "--format", "json")
    assert resync.returncode == 4, resync.stderr
    report = json.loads(resync.stdout)
    assert {op["async_account"] for op in report["operations"]} == {"w-1"}
    edit = shop.run(
        "edit",
        "--view",
        "broken-web",
        "--set",
        "email=web@example.se",
        "--reason",
        "r",
        "--dry-run",
    )
    assert edit.returncode == 0, edit.stderr
    assert "would edit 1 of 1 operation(s)" in edit.stdout
    discard = shop.run("discard", "--view", "broken-web", "--reason", "gone", "--yes")
    assert discard.returncode == 0, discard.stderr
    assert listed(shop, "--status", "discarded") == [("web-se", "w-1", "discarded")]


def test_an_unknown_view_names_the_closest_and_every_view(shop: Workspace) -> None:
    done = shop.run("list", "--view", "brokn-web")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "custsync: error: --view: unknown view 'brokn-web'; did you mean broken-web?"
        " (views: broken-web, web-until)"
    )
    assert done.stdout == ""
    assert shop.run("resync", "--view", "nope", "--yes").returncode == 2


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("--status failed --limit 3", "view 'bad': '--limit' is not a filter option"),
        ("--status faild", "view 'bad': --status: unknown status 'faild'; did you mean failed?"),
        ("--channel web-fi", "view 'bad': --channel: unknown channel 'web-fi'"),
        ("--since yesterday", "view 'bad': "),
        ("--where colour=red", "view 'bad': --where: unknown field 'colour'"),
        ("--error 'unclosed", "view 'bad': No closing quotation"),
        ("--until 2026-01-01 --until 2026-02-01", "view 'bad': --until is given twice"),
        ("--status", "view 'bad': --status needs a value"),
    ],
)
def test_a_bad_view_is_a_config_error_naming_it(
    workspace: Workspace, options: str, says: str
) -> None:
    workspace.channel("web-se")
    workspace.write_config(views={"good": "--status failed", "bad": options})
    for args in (("list",), ("views",), ("status",)):
        done = workspace.run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr
    assert not workspace.store_path.exists()


def test_views_lists_them_for_people_and_scripts(shop: Workspace) -> None:
    table = shop.run("views")
    assert table.returncode == 0, table.stderr
    assert "broken-web" in table.stdout and "--status failed --channel web-se" in table.stdout
    done = shop.run("views", "--format", "json")
    assert json.loads(done.stdout) == [
        {"name": "broken-web", "options": "--status failed --channel web-se"},
        {
            "name": "web-until",
            "options": "--channel=web-se --until 2030-01-01 --error 'a valid address'",
        },
    ]


def test_no_views_says_how_to_add_one(workspace: Workspace) -> None:
    workspace.channel("web-se")
    done = workspace.run("views")
    assert done.returncode == 0 and done.stdout == ""
    assert "no saved views" in done.stderr
    assert json.loads(workspace.run("views", "--format", "json").stdout) == []


def test_completion_completes_view_names(shop: Workspace) -> None:
    env = shop.env(
        _CUSTSYNC_COMPLETE="complete_bash", COMP_WORDS="custsync list --view bro", COMP_CWORD="3"
    )
    done = shop.run(env=env)
    assert done.returncode == 0, done.stderr
    assert "broken-web" in done.stdout and "web-until" not in done.stdout
    assert os.environ.get("_CUSTSYNC_COMPLETE") is None
