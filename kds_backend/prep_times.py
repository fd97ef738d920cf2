"""Prep times (issue 19 item 1): how long each menu item takes to cook, per restaurant, for fire timing.

Set by an admin (`PUT /api/v1/prep-times/{item_name}`, `kds-backend prep-time set`); copied onto each item as the
POS sends it (`order_items.prep_seconds`), so every screen times the item's fire from the item alone, offline too,
and a later change of the menu never re-times a ticket already on the rail. Names are matched case-insensitively,
as the POS, recipes and the 86 list name them. `suggest` learns the times from the kitchen's `done_at` history.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from api_client.fire_timing import planned_fire_times
from api_client.models import ItemStatus, OrderItemPublic
from api_client.prep_time import work_started_at

from .db.tables import order_items, prep_times
from .db.writer import Writer

MAX_SECONDS = 4 * 3600
"""A longer prep time is almost certainly a typo (minutes given as seconds times 60)."""


@dataclass(frozen=True)
class PrepTime:
    item_name: str
    seconds: int


def check_seconds(seconds: int) -> str | None:
    """Why `seconds` is not a usable prep time, or None."""
    if not 1 <= seconds <= MAX_SECONDS:
        return f"a prep time is 1 second to {MAX_SECONDS // 3600} hours, not {seconds} s"
    return None


def set_prep_time(w: Writer, restaurant_id: str, item_name: str, seconds: int) -> PrepTime:
    """The item's prep time from now on (orders already sent keep the time they were sent with)."""
    problem = check_seconds(seconds)
    if problem is not None:
        raise ValueError(problem)
    name = item_name.strip()
    if not name:
        raise ValueError("an item name is needed")
    key = name.lower()
    values = {"item_name": name, "seconds": seconds, "updated_at": w.now}
    found = w.conn.execute(
        sa.update(prep_times)
        .where(prep_times.c.restaurant_id == restaurant_id, prep_times.c.item_key == key)
        .values(**values)
    )
    if found.rowcount == 0:
        w.conn.execute(sa.insert(prep_times).values(restaurant_id=restaurant_id, item_key=key, **values))
    return PrepTime(name, seconds)


def remove_prep_time(w: Writer, restaurant_id: str, item_name: str) -> bool:
    """The item has no prep time from now on (it fires with its course); False if it had none."""
    gone = w.conn.execute(
        sa.delete(prep_times).where(
            prep_times.c.restaurant_id == restaurant_id, prep_times.c.item_key == item_name.strip().lower()
        )
    )
    return gone.rowcount > 0


def list_prep_times(conn: sa.Connection, restaurant_id: str) -> list[PrepTime]:
    query = (
        sa.select(prep_times.c.item_name, prep_times.c.seconds)
        .where(prep_times.c.restaurant_id == restaurant_id)
        .order_by(prep_times.c.item_key)
    )
    return [PrepTime(name, seconds) for name, seconds in conn.execute(query)]


def menu_prep(conn: sa.Connection, restaurant_id: str) -> dict[str, int]:
    """Lower-cased item name -> seconds: what intake copies onto each item it writes."""
    query = sa.select(prep_times.c.item_key, prep_times.c.seconds).where(prep_times.c.restaurant_id == restaurant_id)
    return {key: seconds for key, seconds in conn.execute(query)}


@dataclass(frozen=True)
class Suggestion:
    item_name: str
    seconds: int
    """The median time the kitchen took, rounded to 15 s."""
    samples: int
    current: int | None
    """The prep time set now, if any."""


MIN_SAMPLES = 3
"""Fewer finished items than this suggest nothing: one slow night is not a prep time."""
ROUND_S = 15


def suggest(conn: sa.Connection, restaurant_id: str, *, since: datetime, until: datetime) -> list[Suggestion]:
    """Prep times learned from history: for each item name done between `since` and `until`, the median time
    from when it went to the kitchen (its fire time if it waited on a longer item, else its `fired_at`: when its
    course was sent or fired) to the server's `done_at` (the same clock, so a device's wrong clock never skews it).
    The start is `api_client.prep_time.work_started_at`, the rule the screens' TODAY figures use."""
    query = sa.select(order_items).where(
        order_items.c.restaurant_id == restaurant_id,
        order_items.c.done_at >= since,
        order_items.c.done_at < until,
    )
    done = [OrderItemPublic.model_validate(dict(row)) for row in conn.execute(query).mappings()]
    siblings = _siblings(conn, {i.order_id for i in done})
    times: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    for item in done:
        if item.status is not ItemStatus.done or item.done_at is None:
            continue
        start = work_started_at(item, planned_fire_times(siblings.get(item.order_id, [item])))
        if start is None:
            continue
        key = item.name.strip().lower()
        names.setdefault(key, item.name.strip())
        times.setdefault(key, []).append(max(0.0, (item.done_at - start).total_seconds()))
    current = menu_prep(conn, restaurant_id)
    out = []
    for key, seconds in sorted(times.items()):
        if len(seconds) < MIN_SAMPLES:
            continue
        median = statistics.median(seconds)
        rounded = max(ROUND_S, round(median / ROUND_S) * ROUND_S)
        out.append(Suggestion(names[key], rounded, len(seconds), current.get(key)))
    return out


def _siblings(conn: sa.Connection, order_ids: set[object]) -> dict[object, list[OrderItemPublic]]:
    """Every item of these orders (an item's fire time depends on its course's other items)."""
    out: dict[object, list[OrderItemPublic]] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        query = sa.select(order_items).where(order_items.c.order_id.in_(ids[start : start + 500]))
        for row in conn.execute(query).mappings():
            item = OrderItemPublic.model_validate(dict(row))
            out.setdefault(item.order_id, []).append(item)
    return out


def suggest_window(now: datetime, days: int) -> tuple[datetime, datetime]:
    return now - timedelta(days=days), now
