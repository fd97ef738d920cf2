"""The ticket-time history as CSV: one row per order and station, for a range of kitchen days.

Read from the companion's database, which never deletes an order (the end-of-day clear only archives), so
the history is as long as the database. A station that has not finished an order has empty done_at and
seconds; `outcome` tells served, cancelled, still open and cleared (abandoned at day end) apart. `seconds` runs
from `created_at`, or from the fire time when fire timing held all the station's items back (api_client/prep_time).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import sqlalchemy as sa

from api_client.business_day import day_range, kitchen_date
from api_client.fire_timing import planned_fire_times
from api_client.models import OrderItemPublic
from api_client.prep_time import station_done_at, station_started_at, ticket_seconds

from .db.tables import order_items, orders

COLUMNS = (
    "date",
    "order_number",
    "station",
    "created_at",
    "done_at",
    "seconds",
    "type",
    "source",
    "outcome",
    "cleared_at",
    "restaurant_id",
    "order_id",
)
MAX_DAYS = 366
"""A longer range is almost certainly a typo (wrong year); ask for it in pieces."""


@dataclass(frozen=True)
class DayRange:
    since: date
    until: date


def parse_range(since: str | None, until: str | None) -> DayRange:
    """`since`/`until` as YYYY-MM-DD, both included; a clear ValueError for anything else."""
    if not since or not until:
        raise ValueError("both since and until are needed, as YYYY-MM-DD")
    days = []
    for name, raw in (("since", since), ("until", until)):
        try:
            days.append(date.fromisoformat(raw))
        except ValueError:
            raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from None
        if len(raw) != 10:  # fromisoformat also takes 20261122; a report range should be unambiguous
            raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {raw!r}")
    first, last = days
    if last < first:
        raise ValueError(f"until ({last}) is before since ({first})")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days at a time (asked for {(last - first).days + 1})")
    return DayRange(first, last)


def _outcome(status: str, cleared_at: datetime | None) -> str:
    return "cleared" if cleared_at is not None else {"served": "served", "cancelled": "cancelled"}.get(status, "open")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def prep_rows(
    conn: sa.Connection, days: DayRange, hour: int, tz: tzinfo, restaurant_id: str | None = None
) -> Iterator[tuple[str, ...]]:
    """CSV rows (without the header), oldest order first; orders belong to the kitchen day they were created in."""
    start, end = day_range(days.since, days.until, hour, tz)
    query = sa.select(orders).where(orders.c.created_at >= start, orders.c.created_at < end)
    if restaurant_id is not None:
        query = query.where(orders.c.restaurant_id == restaurant_id)
    order_rows = conn.execute(query.order_by(orders.c.created_at, orders.c.number)).mappings().all()
    # Items in pages of orders: bounded statements, whatever the range.
    for page_start in range(0, len(order_rows), 500):
        page = order_rows[page_start : page_start + 500]
        by_order: dict[object, dict[str, list[OrderItemPublic]]] = defaultdict(lambda: defaultdict(list))
        for item in conn.execute(
            sa.select(order_items).where(order_items.c.order_id.in_([o["id"] for o in page]))
        ).mappings():
            by_order[item["order_id"]][item["station"]].append(OrderItemPublic.model_validate(dict(item)))
        for order in page:
            stations = by_order[order["id"]]
            fires = planned_fire_times(item for items in stations.values() for item in items)
            for station, items in sorted(stations.items()):
                done = station_done_at(items)
                start = station_started_at(order["created_at"], items, fires)
                seconds = "" if done is None else f"{ticket_seconds(start, done):.0f}"
                yield (
                    kitchen_date(order["created_at"], hour, tz).isoformat(),
                    order["number"],
                    station,
                    _iso(order["created_at"]),
                    _iso(done),
                    seconds,
                    order["type"],
                    order["source"],
                    _outcome(order["status"], order["cleared_at"]),
                    _iso(order["cleared_at"]),
                    order["restaurant_id"],
                    str(order["id"]),
                )


def to_csv(rows: Iterator[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
