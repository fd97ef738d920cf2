"""Routing new items by load (issue 19 item 2), per restaurant and off unless an admin turns it on.

A restaurant lists, for a station, the stations that can also make its items (`{"grill": ["flat"]}`). With
`route_by_load` on, an item written to an order whose route (the POS's station, the category's route or the
default) is such a station goes to whichever of the group has the fewest open items at that moment: items new or
cooking, on orders neither served, cancelled nor cleared. Ties go to the routed station, then the alternates in
the order listed. One order's items of a group stay together: when the order already has an item (not voided) at
a station of the group, the new one joins it, so a burger added later lands on the same ticket as the first.

Set with `PUT /api/v1/load-routing` or `kds-backend load-routing`. The SQL twin is kds.route_by_load in
supabase/migrations/20261207009000_load_routing.sql (the same rule, in an insert trigger of order_items).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from api_client.models import OrderStatus
from api_client.order_machine import OPEN_STATUSES

from .db.tables import load_routing, order_items, orders
from .db.writer import Writer

STATION = re.compile(r"[a-z0-9_-]{1,40}")
MAX_ALTERNATES = 10
"""Stations that can stand in for one station: a kitchen has a handful; more is a mistake in the list."""


@dataclass(frozen=True)
class LoadRouting:
    route_by_load: bool = False
    alternates: dict[str, list[str]] = field(default_factory=dict)

    def group(self, station: str) -> list[str]:
        """The stations an item routed to `station` may go to, the routed one first (one when load routing is off)."""
        if not self.route_by_load:
            return [station]
        return list(dict.fromkeys([station, *self.alternates.get(station, [])]))


def alternates_problem(alternates: dict[str, list[str]]) -> str | None:
    """Why `alternates` is not a list of stand-in stations, or None."""
    for station, others in alternates.items():
        for name in (station, *others):
            if STATION.fullmatch(name) is None:
                return f"{name!r} is not a station name (a-z, 0-9, _ and -, at most 40 characters)"
        if len(others) > MAX_ALTERNATES:
            return f"{station} has {len(others)} alternates; at most {MAX_ALTERNATES}"
    return None


def read_load_routing(conn: sa.Connection, restaurant_id: str) -> LoadRouting:
    row = conn.execute(sa.select(load_routing).where(load_routing.c.restaurant_id == restaurant_id)).mappings().first()
    if row is None:
        return LoadRouting()
    return LoadRouting(bool(row["route_by_load"]), {k: list(v) for k, v in dict(row["alternates"]).items()})


def save_load_routing(w: Writer, restaurant_id: str, routing: LoadRouting) -> LoadRouting:
    problem = alternates_problem(routing.alternates)
    if problem is not None:
        raise ValueError(problem)
    values = {"route_by_load": routing.route_by_load, "alternates": routing.alternates, "updated_at": w.now}
    found = w.conn.execute(
        sa.update(load_routing).where(load_routing.c.restaurant_id == restaurant_id).values(**values)
    )
    if found.rowcount == 0:
        w.conn.execute(sa.insert(load_routing).values(restaurant_id=restaurant_id, **values))
    return routing


def open_loads(conn: sa.Connection, restaurant_id: str, stations: Iterable[str]) -> dict[str, int]:
    """How many open items (new or cooking, on an order still on the rail) each of `stations` has now."""
    wanted = sorted(set(stations))
    if not wanted:
        return {}
    query = (
        sa.select(order_items.c.station, sa.func.count())
        .select_from(order_items.join(orders, orders.c.id == order_items.c.order_id))
        .where(
            order_items.c.restaurant_id == restaurant_id,
            order_items.c.station.in_(wanted),
            order_items.c.status.in_(sorted(s.value for s in OPEN_STATUSES)),  # still to cook, as the screens say
            orders.c.status.not_in([OrderStatus.served.value, OrderStatus.cancelled.value]),
            orders.c.cleared_at.is_(None),
        )
        .group_by(order_items.c.station)
    )
    return {station: int(n) for station, n in conn.execute(query)}


class Balancer:
    """Places one restaurant's new items by load. The loads are read once, before the first item is placed, and
    counted on as items are placed, so a batch of orders written together sees its own earlier orders' items."""

    def __init__(self, conn: sa.Connection, restaurant_id: str, routing: LoadRouting) -> None:
        self._conn = conn
        self._restaurant_id = restaurant_id
        self.routing = routing
        self._loads: dict[str, int] | None = None

    def place(self, rows: list[dict[str, Any]], placed: set[str]) -> None:
        """Set the station of each new item row; `placed`: the stations the order has items (not voided) at, which
        grows as its rows are placed."""
        if not (self.routing.route_by_load and self.routing.alternates):
            return  # off: the routed station stands, and nothing is read
        if self._loads is None:
            every = {s for station, others in self.routing.alternates.items() for s in (station, *others)}
            self._loads = open_loads(self._conn, self._restaurant_id, every)
        loads = self._loads
        for row in rows:
            group = self.routing.group(row["station"])
            if len(group) > 1:
                joined = next((s for s in group if s in placed), None)
                row["station"] = joined or least_loaded(group, loads)
            placed.add(row["station"])
            loads[row["station"]] = loads.get(row["station"], 0) + 1


def least_loaded(group: list[str], loads: dict[str, int]) -> str:
    """The station of `group` with the fewest open items; a tie goes to the one listed first."""
    return min(group, key=lambda s: (loads.get(s, 0), group.index(s)))


def balancer(conn: sa.Connection, restaurant_id: str) -> Balancer:
    return Balancer(conn, restaurant_id, read_load_routing(conn, restaurant_id))
