"""A shop with long values (a long email, a long error), built once per module by the jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Workspace, address, person

# A valid address HQ accepts (60 characters), and one HQ refuses as too long (93 characters).
LONG_EMAIL = "margareta.vilhelmina.lindqvist.rosenberg@kundtjanst.example.se"
TOO_LONG_EMAIL = (
    "karl-johan.fredrik.alexander.von.essen.lewenhaupt.wachtmeister@faktura.ekonomi.example.se"
)
ASYNC_ACCOUNT = "5b5b4e53-fa31-4729-9f8b-de6c6fd3d43e"
FAILING_ACCOUNT = "7c1d9e2a-0b6f-4c1e-9a55-3e8f2d7b1c90"


@pytest.fixture(scope="module")
def long_shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(Path(tmp_path_factory.mktemp("long")))
    web = ws.channel("web-se")
    web.add(ASYNC_ACCOUNT, "create_customer", person("Margareta", "Lindqvist", email=LONG_EMAIL))
    web.add(ASYNC_ACCOUNT, "create_address", address("A1", street="Kungsgatan 44"))
    # Fails on four fields at once: a long last error.
    bad = person(last_name="", email=TOO_LONG_EMAIL, phone="call me", currency="ZZZ")
    web.add(FAILING_ACCOUNT, "create_customer", bad)
    for i in range(60):
        web.add(f"bulk-{i:03d}", "create_customer", person("Bo", f"Berg{i}"))
    ran = ws.run("run-jobs")
    assert ran.returncode == 0, ran.stderr
    return ws
