"""Parse the times and durations operators type: ISO dates and times, and forms like 2h or 3d."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from custsync_cli.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def utc_now() -> str:
    """The current time as the store writes it: ISO 8601 UTC with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``3d``, ``1w`` as a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"'{text}' is not a duration (use forms like 30m, 2h, 3d, 1w)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_moment(text: str, *, now: datetime | None = None) -> str:
    """An ISO date or time, or a duration meaning that long ago, as the store's UTC form."""
    now = now or datetime.now(UTC)
    if _DURATION.match(text):
        moment = now - parse_duration(text)
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise UsageError(
                f"'{text}' is not a time (use 2026-11-20, 2026-11-20T14:00, or 2h, 3d ago)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age_seconds(stamp: str, *, now: datetime | None = None) -> float:
    """Seconds since a store timestamp."""
    now = now or datetime.now(UTC)
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (now - moment).total_seconds()


def format_age(seconds: float) -> str:
    """A short human age: 45s, 12m, 3h 5m, 2d 4h."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
