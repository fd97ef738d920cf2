"""The kitchen's day: it starts at the day-end hour (e.g. 04:00 local), not at midnight.

Pure functions shared by the companion (end-of-day clear), the sync engine and the screen ("today" in the
prep-time figures), so all three agree on where one service day ends. A day boundary is a local wall-clock
time; it is converted to an instant per date, so a DST change moves the instant, never the wall time.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DAY_END_HOUR = 4
"""04:00: after the last late service, before the first breakfast prep."""


def check_hour(hour: int) -> int:
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        raise ValueError(f"the day-end hour must be a whole hour from 0 to 23, not {hour!r}")
    return hour


def zone(name: str | None) -> tzinfo:
    """The named IANA zone (e.g. "Europe/Paris"), or this machine's local zone when `name` is empty."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from exc
    return local_zone()


def local_zone() -> tzinfo:
    """This machine's zone with its DST rules when it can be found (TZ, /etc/localtime), else its current offset."""
    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env:
        try:
            return ZoneInfo(tz_env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    if localtime.exists():
        try:
            with localtime.open("rb") as f:
                return ZoneInfo.from_file(f, key="localtime")
        except (OSError, ValueError):
            pass
    # A fixed offset is right until the next DST change; better than guessing a zone.
    found = datetime.now().astimezone().tzinfo
    assert found is not None
    return found


def _boundary_on(day: date, hour: int, tz: tzinfo) -> datetime:
    # In UTC: aware datetimes sharing one tzinfo compare by wall time, which is wrong across a DST change.
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def day_start(now: datetime, hour: int, tz: tzinfo) -> datetime:
    """The last boundary at or before `now` (timezone-aware): when the current kitchen day began."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    check_hour(hour)
    local = now.astimezone(tz)
    start = _boundary_on(local.date(), hour, tz)
    if start > now:
        start = _boundary_on(local.date() - timedelta(days=1), hour, tz)
    return start


def next_boundary(now: datetime, hour: int, tz: tzinfo) -> datetime:
    """The first boundary strictly after `now`: when the scheduler clears next."""
    start = day_start(now, hour, tz)
    following = _boundary_on(start.astimezone(tz).date() + timedelta(days=1), hour, tz)
    # A boundary inside a DST gap can land at or before `now`; step a day further rather than clear twice.
    while following <= now:
        following = _boundary_on(following.astimezone(tz).date() + timedelta(days=1), hour, tz)
    return following


def kitchen_date(at: datetime, hour: int, tz: tzinfo) -> date:
    """The service day `at` belongs to: 02:00 on the 5th with a 04:00 day end is still the 4th's service."""
    return day_start(at, hour, tz).astimezone(tz).date()


def day_range(since: date, until: date, hour: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants [start, end) covering kitchen days `since` to `until`, both included."""
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    return _boundary_on(since, hour, tz), _boundary_on(until + timedelta(days=1), hour, tz)
