"""The day's prep-time figures per station, from this screen's local store.

Only server rows count (never this screen's pending taps): a ticket time ends at the server's `done_at` (and
starts at the order's time, or at its items' fire time when fire timing held them back), so
every screen shows the same figures whatever its clock says. Reads stay small however long the store's
history is: the indexed `order_items.done_at` column picks today's finished items first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import cast

import sqlalchemy as sa

from api_client.fire_timing import planned_fire_times
from api_client.models import OrderItemPublic, OrderPublic, OrderStatus
from api_client.prep_time import PrepSummary, station_done_at, station_started_at, summarize, ticket_seconds
from sync.store.tables import order_items, orders


def prep_times(conn: sa.Connection, since: datetime, stations: Collection[str] | None = None) -> list[PrepSummary]:
    """Per station (name order): tickets the station finished at or after `since`, with their average and
    90th-percentile time. `stations` None means every station. Cancelled orders do not count; orders
    cleared at day end do, for the stations that finished them."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    # By done time alone, and no DISTINCT (IN needs none): with a station condition SQLite prefers the
    # (station, order_id) index, with DISTINCT the order_id index, and either way walks every item ever made
    # (~2 s cold at 100k orders) instead of today's. Stations are picked below, in Python.
    recent = sa.select(order_items.c.order_id).where(order_items.c.done_at >= since.timestamp())
    order_rows = conn.execute(
        sa.select(orders.c.id, orders.c.data).where(
            orders.c.id.in_(recent), orders.c.status != OrderStatus.cancelled.value
        )
    ).all()
    if not order_rows:
        return []
    pairs = cast("Sequence[tuple[str, str]]", order_rows)
    created = {oid: OrderPublic.model_validate(json.loads(data)).created_at for oid, data in pairs}
    by_ticket: dict[tuple[str, str], list[OrderItemPublic]] = defaultdict(list)
    item_rows = conn.execute(
        sa.select(order_items.c.order_id, order_items.c.station, order_items.c.data).where(
            order_items.c.order_id.in_(list(created))
        )
    )
    whole: dict[str, list[OrderItemPublic]] = defaultdict(list)  # every item: a fire time needs its course
    for order_id, station, data in cast("Iterable[tuple[str, str, str]]", item_rows):
        item = OrderItemPublic.model_validate_json(data)
        whole[order_id].append(item)
        if stations is None or station in stations:
            by_ticket[(order_id, station)].append(item)
    seconds: dict[str, list[float]] = defaultdict(list)
    for (order_id, station), items in by_ticket.items():
        done = station_done_at(items)
        if done is not None and done >= since:
            start = station_started_at(created[order_id], items, planned_fire_times(whole[order_id]))
            seconds[station].append(ticket_seconds(start, done))
    return [s for station in sorted(seconds) if (s := summarize(station, seconds[station])) is not None]
