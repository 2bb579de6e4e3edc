"""The run-jobs progress: tallies per job and channel, and the live display's timing."""

from __future__ import annotations

import time

import pytest

from custsync_cli.output import console
from custsync_cli.output.progress import JobTally, LiveProgress


def test_tally_lines_per_job_and_channel() -> None:
    tally = JobTally()
    for job, channel, count in [
        ("pull", "web-se", 500),
        ("pull", "web-se", 20),
        ("pull", "store-042", 3),
        ("sync", None, 523),
        ("distribute", None, 500),
    ]:
        tally(job, channel, count)
    assert tally.detail_lines() == [
        "  pull web-se: pulled 520",
        "  pull store-042: pulled 3",
        "  sync: processed 523",
        "  distribute: distributed 500",
    ]


def test_live_rows_time_each_job_and_channel_from_batch_to_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    console.set_no_color(False)
    live = LiveProgress(["pull", "sync", "distribute"], channels=["a", "b"], verbose=True)
    with live:
        start = live.last_event
        time.sleep(0.2)
        live("pull", "a", 100)
        after_a = live.last_event
        time.sleep(0.1)
        live("pull", "b", 50)
        after_b = live.last_event
        time.sleep(0.3)
        live("sync", None, 150)
        after_sync = live.last_event
    tasks = {task.description.strip(): task for task in live.progress.tasks}
    assert list(tasks) == ["pull", "pull a", "pull b", "sync", "distribute"]
    expected = {
        "pull": (150, after_b - start),
        "pull a": (100, after_a - start),
        "pull b": (50, after_b - after_a),
        "sync": (150, after_sync - after_b),
    }
    for name, (count, seconds) in expected.items():
        task = tasks[name]
        assert task.finished and task.completed == count
        assert task.elapsed == pytest.approx(seconds, abs=0.01), name
    assert tasks["distribute"].completed == 0 and tasks["distribute"].finished
    assert after_a - start >= 0.2 and after_sync - after_b >= 0.3
