"""Named fault-injection points for tests: ``CUSTSYNC_FAULT=point:n`` exits hard at hit n."""

from __future__ import annotations

import os
import time

_hits: dict[str, int] = {}


def point(name: str) -> None:
    """Exit the process at once (as kill -9 would) when the configured hit of ``name`` comes.

    ``CUSTSYNC_PAUSE=point:seconds`` instead waits there each time, so a test can hold a run
    at a known place however fast the jobs are; ``CUSTSYNC_PAUSE=point:/path`` waits there
    until that file exists (at most two minutes), so a test can release it when it is ready.
    """
    pause = os.environ.get("CUSTSYNC_PAUSE")
    if pause:
        target, _, hold = pause.partition(":")
        if target == name:
            if hold.startswith("/"):
                deadline = time.monotonic() + 120
                while not os.path.exists(hold) and time.monotonic() < deadline:
                    time.sleep(0.01)
            else:
                time.sleep(float(hold or "1"))
    spec = os.environ.get("CUSTSYNC_FAULT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or "1"):
        os._exit(99)
