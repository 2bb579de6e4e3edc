"""The jobs' statements on operations use indexes: no full scan, no sort of a whole status."""

from __future__ import annotations

import re

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.domain.runs import JOB_ORDER
from custsync_cli.jobs.runner import run_jobs
from custsync_cli.store.database import open_store
from tests.helpers import Workspace, address, person

GUIDS = [f"6f1c1d4e-0000-4000-8000-{n:012d}" for n in range(6)]
OPERATION_TABLES = re.compile(r"\b(operations|operation_errors)\b")
WALK = re.compile(r"^SCAN (operations|operation_errors|o)\b")
# Walking a partial index is fine: it holds only the operations still to sync or distribute.
PARTIAL = re.compile(r"USING (COVERING )?INDEX operations_to_(sync|distribute)\b")
# A search on the operation type or the status alone walks a share of the whole store: every
# create, every synced operation. Done once per batch, that grows with the store's size.
BROAD = re.compile(r"^SEARCH \w+ USING (COVERING )?INDEX operations_(operation|status) \(\w+=\?\)$")


def test_pull_sync_and_distribute_answer_from_indexes(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    for n, guid in enumerate(GUIDS):
        web.add(guid, "create_customer", person(f"Anna{n}", "Svensson", email=f"a{n}@example.se"))
        web.add(guid, "create_address", address())
        web.add(guid, "update_customer", {"phone": "+46 70 999 88 77"})
    web.add(GUIDS[0], "create_customer", person("Bad", "Email", email="not-an-email"))
    web.add("6f1c1d4e-0000-4000-8000-999999999999", "update_customer", {"phone": "+46 70 1"})
    config = load_config(workspace.config_path)
    with open_store(workspace.store_path, create=True) as store:
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        report = run_jobs(
            JobContext(config=config, store=store, actor="tester"),
            list(JOB_ORDER),
            list(config.channels),
        )
        store.conn.set_trace_callback(None)
        assert report.synced > 0 and report.failed > 0 and report.distributed > 0
        checked = 0
        for sql in dict.fromkeys(statements):
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
                continue
            if not OPERATION_TABLES.search(sql):
                continue
            plan = [str(row[3]) for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            checked += 1
            walks = [
                step
                for step in plan
                if (WALK.match(step) and not PARTIAL.search(step)) or BROAD.match(step)
            ]
            assert not walks, f"{sql}\n{plan}"
            if " LIMIT " in sql.upper():
                assert "USE TEMP B-TREE FOR ORDER BY" not in plan, f"sorts: {sql}\n{plan}"
        assert checked >= 10
