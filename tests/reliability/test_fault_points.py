"""Fault points: a pause waits at the named point only, and leaves the process running."""

from __future__ import annotations

import pytest

from custsync_cli import faults


def test_a_pause_waits_at_its_point_each_time_and_nowhere_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    monkeypatch.delenv("CUSTSYNC_FAULT", raising=False)
    monkeypatch.setenv("CUSTSYNC_PAUSE", "sync.before_commit:0.25")
    faults.point("pull.before_commit")
    faults.point("sync.before_commit")
    faults.point("sync.before_commit")
    assert slept == [0.25, 0.25]
