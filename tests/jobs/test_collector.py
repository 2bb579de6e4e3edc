"""run_jobs collects garbage less often while it runs and leaves the collector as it found it."""

from __future__ import annotations

import gc

from custsync_cli.config import load_config
from custsync_cli.context import JobContext
from custsync_cli.domain.runs import JOB_ORDER
from custsync_cli.jobs.runner import COLLECT_EVERY, run_jobs
from custsync_cli.store.database import open_store
from tests.helpers import Workspace, person


def test_the_jobs_run_with_a_frozen_start_up_and_fewer_collections(workspace: Workspace) -> None:
    web = workspace.channel("web-se")
    web.add("6f1c1d4e-0000-4000-8000-000000000001", "create_customer", person("Anna", "Berg"))
    config = load_config(workspace.config_path)
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, ...], int]] = []

    def progress(job: str, channel: str | None, count: int) -> None:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))

    with open_store(workspace.store_path, create=True) as store:
        ctx = JobContext(config=config, store=store, actor="tester", progress=progress)
        report = run_jobs(ctx, list(JOB_ORDER), list(config.channels))
    assert report.synced == 1 and seen
    for threshold, frozen in seen:
        assert threshold == (COLLECT_EVERY, *before[1:])
        assert frozen > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
