"""What a screen lists: orders as displayed, i.e. server rows with this screen's pending intents on top.

Every listing costs the same few queries however many orders there are (the app lists on every coalesced
change): one for the candidate orders, one for their items, one for their unanswered intents. Candidates are
narrowed in SQL by columns that pending intents cannot change (station) or by the server's status plus "has
pending intents"; the displayed state decides in the end.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa

from api_client.fire_timing import planned_fire_times
from api_client.models import DeviceRole, ItemStatus, OrderItemPublic, OrderStatus, OrderWithItems, Priority
from api_client.order_machine import OPEN_STATUSES
from sync.store import outbox_rows
from sync.store.compiled import Compiled, ids_param, json_ids
from sync.store.tables import order_items, orders

from .display_cache import DisplayCache

OPEN = frozenset({OrderStatus.new, OrderStatus.in_progress, OrderStatus.ready})
STATION_OPEN_ITEMS = OPEN_STATUSES  # the order machine's "still to cook"
# A done item makes an order at least in progress (see `derive_status`), so a new order has nothing bumped.
_AFTER_WORK = frozenset({OrderStatus.in_progress, OrderStatus.ready, OrderStatus.served})


@dataclass(frozen=True, slots=True)
class _Displayed:
    order: OrderWithItems
    """As displayed, with all its items."""
    pending_at: datetime | None
    """When the newest unanswered intent on it was made, if any."""


def ticket_sort_key(order: OrderWithItems) -> tuple[bool, datetime, str]:
    """Where a ticket goes on the rail: rushed orders first, then oldest first (the id only makes ties stable).
    `kds_app.viewmodel.screen.sort_key` is the same rule for the app's mixed-station rails: keep the two in step."""
    return (order.priority is not Priority.rush, order.created_at, str(order.id))


def open_tickets(
    conn: sa.Connection,
    role: DeviceRole,
    station: str | None,
    among: Collection[UUID] | None = None,
    cache: DisplayCache | None = None,
) -> list[OrderWithItems]:
    """Open orders as displayed. Expo: whole orders that are new, in progress or ready. A station: orders where
    it still has work or an unacknowledged change, with only its items (voided ones included).

    `among`: only these orders (a screen redrawing what a change touched); keep it to a few hundred ids."""
    return [ticket for ticket, _fires in open_tickets_timed(conn, role, station, among, cache)]


def open_tickets_timed(
    conn: sa.Connection,
    role: DeviceRole,
    station: str | None,
    among: Collection[UUID] | None = None,
    cache: DisplayCache | None = None,
) -> list[tuple[OrderWithItems, dict[UUID, datetime]]]:
    """`open_tickets`, each with the fire times of its timed items (issue 19 item 1: `planned_fire_times`, whatever
    their status), found on the whole order: a station's item waits on the longest item of its course, whichever
    station makes that one."""
    shown = [
        (ticket, planned_fire_times(displayed.order.order_items))
        for displayed in _load_displayed(conn, role, OPEN, station, among, cache)
        if (ticket := _open_view(displayed.order, station)) is not None
    ]
    shown.sort(key=lambda pair: ticket_sort_key(pair[0]))
    return shown


def recently_bumped(
    conn: sa.Connection, role: DeviceRole, station: str | None, since: datetime, cache: DisplayCache | None = None
) -> list[tuple[OrderWithItems, datetime]]:
    """Orders bumped at or after `since` (timezone-aware), most recent first, each with its bump time.

    A station: orders it has finished (not open there, not cancelled, at least one of its items done), with
    only its items, bumped when its items last changed. Expo: served orders, bumped when the order last changed.
    An unanswered intent on the order counts as its bump time when later, so an offline bump shows at once.
    """
    statuses = _AFTER_WORK if station is not None else frozenset({OrderStatus.served})
    bumped = [
        found
        for displayed in _load_displayed(conn, role, statuses, station, cache=cache)
        if (found := _bumped_view(displayed, station)) is not None and found[1] >= since
    ]
    bumped.sort(key=lambda b: (b[1], str(b[0].id)), reverse=True)
    return bumped


# ---------------------------------------------------------------- the rules, on displayed orders


# A skip scan over the station index: one index lookup per station, however many items history holds
# (SELECT DISTINCT would read every index entry: ~15 ms per redraw with 300k items).
_STATIONS = sa.text(
    """
    WITH RECURSIVE seen(station) AS (
        SELECT MIN(station) FROM order_items
        UNION ALL
        SELECT (SELECT MIN(station) FROM order_items WHERE station > seen.station) FROM seen
        WHERE seen.station IS NOT NULL
    )
    SELECT station FROM seen WHERE station IS NOT NULL
    """
)


def known_stations(conn: sa.Connection) -> list[str]:
    """Every station this screen has seen an item for, in name order."""
    return list(conn.execute(_STATIONS).scalars())


def _station_items(order: OrderWithItems, station: str) -> list[OrderItemPublic]:
    return [i for i in order.order_items if i.station == station]


def station_has_work(items: list[OrderItemPublic]) -> bool:
    """Something the station can act on now: an open item that is not held (a held course is not work until it
    is fired), or a changed item (added or voided after send) waiting for the cook's acknowledgement."""
    return any((i.status in STATION_OPEN_ITEMS and not i.held) or i.changed_after_send for i in items)


def station_on_hold(items: list[OrderItemPublic]) -> bool:
    """Only held items are left to cook: the ticket stays on the rail (greyed, ON HOLD) but is not work."""
    return not station_has_work(items) and any(i.held and i.status in STATION_OPEN_ITEMS for i in items)


def _open_view(order: OrderWithItems, station: str | None) -> OrderWithItems | None:
    if order.status not in OPEN or order.cleared_at is not None:  # cleared at day end: archived, off every screen
        return None
    if station is None:
        # An order without items is not a ticket yet (its items are on their way, or an integration wrote
        # the order first): expo never lists, nor chimes for, an empty card.
        return order if order.order_items else None
    items = _station_items(order, station)
    if not station_has_work(items) and not station_on_hold(items):
        return None
    return order.model_copy(update={"order_items": items})


def _bumped_view(displayed: _Displayed, station: str | None) -> tuple[OrderWithItems, datetime] | None:
    order = displayed.order
    if order.cleared_at is not None:  # archived at day end: nothing to recall
        return None
    if station is None:
        if order.status is not OrderStatus.served:
            return None
        ticket, at = order, order.updated_at
    else:
        if order.status is OrderStatus.cancelled or _open_view(order, station) is not None:
            return None
        items = _station_items(order, station)
        if not any(i.status is ItemStatus.done for i in items):
            return None
        ticket = order.model_copy(update={"order_items": items})
        at = max(i.updated_at for i in items)
    if displayed.pending_at is not None and displayed.pending_at > at:
        at = displayed.pending_at
    return ticket, at


# ---------------------------------------------------------------- loading, in a constant number of queries


@dataclass(frozen=True, slots=True)
class _Listing:
    """The shape of a listing: its statements are built and compiled once per shape, then only executed with the
    station and the ids as parameters (building them per call cost more than running them)."""

    statuses: frozenset[OrderStatus]
    by_station: bool
    among: bool


def _candidates(listing: _Listing) -> sa.ColumnElement[bool]:
    """Orders worth loading: the server's status is one of `statuses`, or a pending intent may have changed it."""
    wanted = sa.and_(
        orders.c.cleared == sa.false(),  # day-end archive: months of it must never be loaded for a listing
        sa.or_(
            orders.c.status.in_(sorted(s.value for s in listing.statuses)),
            orders.c.id.in_(outbox_rows.unsettled_order_ids()),
        ),
    )
    if listing.among:
        wanted = sa.and_(orders.c.id.in_(json_ids("among")), wanted)
    if not listing.by_station:
        return wanted
    # Intents never move items between stations, so the server's rows decide this part exactly. Correlated
    # to `orders` only: this condition is also nested inside a query on order_items.
    at_station = (
        sa.select(order_items.c.id)
        .where(order_items.c.order_id == orders.c.id, order_items.c.station == sa.bindparam("station", value=""))
        .correlate(orders)
        .exists()
    )
    return sa.and_(wanted, at_station)


@functools.cache
def _statements(listing: _Listing) -> tuple[Compiled, Compiled, Compiled]:
    """The listing's three queries: its orders, their items, their unanswered intents; compiled once and run on the
    driver's connection (`Compiled`: SQLAlchemy's execution of them cost more than the queries)."""
    where = _candidates(listing)
    matching = sa.select(orders.c.id).where(where)
    return (
        Compiled(sa.select(orders.c.id, orders.c.data).where(where)),
        Compiled(sa.select(order_items.c.order_id, order_items.c.data).where(order_items.c.order_id.in_(matching))),
        Compiled(outbox_rows.unsettled_query(matching)),
    )


def _load_displayed(
    conn: sa.Connection,
    role: DeviceRole,
    statuses: frozenset[OrderStatus],
    station: str | None,
    among: Collection[UUID] | None = None,
    cache: DisplayCache | None = None,
) -> list[_Displayed]:
    """The candidate orders (`_candidates`: by status, at `station`, among the ids `among`), as displayed: three
    queries however many match. `cache` (the engine's) spares parsing and folding what did not change.

    Orders are selected by a subquery rather than a list of ids, so no statement grows with the number of
    orders (SQLite caps bound parameters).
    """
    order_query, item_query, pending_query = _statements(_Listing(statuses, station is not None, among is not None))
    params: dict[str, object] = {}
    if station is not None:
        params["station"] = station
    if among is not None:
        params["among"] = ids_param(among)
    order_rows = order_query.rows(conn, params)
    if not order_rows:
        return []
    if cache is None or cache.role is not role:
        cache = DisplayCache(role)
    items: dict[str, list[str]] = {}
    # (id, JSON) pairs: the statements are raw SQL, so the driver's rows are untyped.
    for order_id, data in cast("Iterable[tuple[str, str]]", item_query.rows(conn, params)):
        items.setdefault(order_id, []).append(data)
    pending: dict[str, list[Any]] = {}
    for row in pending_query.rows(conn, params):  # in device order
        pending.setdefault(row.order_id, []).append(row)
    shown: list[_Displayed] = []
    for order_id, data in cast("Iterable[tuple[str, str]]", order_rows):
        entries = pending.get(order_id, ())
        payloads = tuple(e.payload for e in entries)
        displayed = cache.displayed(order_id, data, tuple(items.get(order_id, ())), payloads)
        newest = datetime.fromtimestamp(max(e.created_at for e in entries), UTC) if entries else None
        shown.append(_Displayed(displayed, newest))
    return shown
