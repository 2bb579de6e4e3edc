"""Parse the times and durations operators type: ISO dates and times, and forms like 2h or 3d."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from custsync_cli.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Far beyond any retention, and short enough that "that long ago" stays after the year 1.
MAX_DURATION = timedelta(days=100 * 365)


def utc_now() -> str:
    """The current time as the store writes it: ISO 8601 UTC with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``3d``, ``1w`` as a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"'{text}' is not a duration (use forms like 30m, 2h, 3d, 1w)")
    try:
        duration = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        duration = timedelta.max
    if duration > MAX_DURATION:
        raise UsageError(
            f"'{text}' is too long a duration (at most {MAX_DURATION.days // 365} years)"
        )
    return duration


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
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        # An offset that moves a time at either end of the calendar past it.
        raise UsageError(f"'{text}' is outside the years 1 to 9999 in UTC") from None
    # isoformat, unlike strftime("%Y"), writes years before 1000 with four digits.
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


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
