"""Named fault-injection points for crash tests: ``CUSTSYNC_FAULT=point:n`` exits hard at hit n."""

from __future__ import annotations

import os

_hits: dict[str, int] = {}


def point(name: str) -> None:
    """Exit the process at once (as kill -9 would) when the configured hit of ``name`` comes."""
    spec = os.environ.get("CUSTSYNC_FAULT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or "1"):
        os._exit(99)
