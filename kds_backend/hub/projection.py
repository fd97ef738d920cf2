"""Making the hub's rows what its copy of upstream shows: upstream's rows with the unanswered intents on top.

Runs inside a hub write transaction, so each projected row takes a hub version and change_seq and reaches the LAN
screens like any other write (Realtime, catch-up, the deletion log). Only what differs is written: projecting an
order the hub already shows that way writes nothing, so a LAN tap echoed back from upstream costs no event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from api_client.models import ItemStatus, OrderWithItems
from sync import MenuLine

from ..db.tables import menu_availability, order_items, orders
from ..db.writer import Writer
from ..orders import SERVER_OWNED, item_row, load_orders, order_row

log = logging.getLogger(__name__)

_DONE = ItemStatus.done.value


LinesDeleted = Callable[[Collection[UUID]], set[UUID]]
"""Which of these order lines upstream deleted (`SyncEngine.deleted_items`)."""


def project_orders(
    w: Writer,
    restaurant_id: str,
    shown: Mapping[UUID, OrderWithItems | None],
    deleted: Iterable[UUID],
    lines_deleted: LinesDeleted | None = None,
) -> int:
    """Write each order of `shown` as the hub's rows; None removes the order only if it is in `deleted` (upstream
    deleted it), never when upstream just no longer sends it (the mirror's retention). A line the hub holds and
    `shown` lacks is removed only if `lines_deleted` says upstream deleted it: one a LAN POS added at the hub is
    not upstream's yet (or upstream's answer is not in the copy yet). Without `lines_deleted`, `shown` is upstream's
    own answer and every line it lacks goes. Returns orders written."""
    gone = set(deleted)
    held = load_orders(w.conn, restaurant_id, shown.keys())
    written = 0
    for order_id, order in shown.items():
        current = held.get(order_id)
        if order is None:
            if current is not None and order_id in gone:
                _delete(w, current)
                written += 1
            continue
        if order.restaurant_id != restaurant_id:
            log.error("upstream sent order %s of restaurant %r to this hub", order_id, order.restaurant_id)
            continue
        if current is None:
            _insert(w, order)
            written += 1
        elif _update(w, current, order, lines_deleted):
            written += 1
    return written


def _copied(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in SERVER_OWNED}


def _counted(order: OrderWithItems, kept: int = 0) -> dict[str, Any]:
    """The order's row as the hub stores it: its item_count is the hub's own count of the lines it holds (upstream's
    plus `kept`, lines only the hub has yet; upstream may be a server without the column), set with the row so the
    commit carries one version of the order."""
    return {**_copied(order_row(order)), "item_count": len(order.order_items) + kept}


def _insert(w: Writer, order: OrderWithItems) -> None:
    w.insert(orders, _counted(order))
    for item in order.order_items:
        values = _copied(item_row(item))
        values["done_at"] = _done_at(values, None, w.now)
        w.insert(order_items, values)


def _update(w: Writer, current: OrderWithItems, order: OrderWithItems, lines_deleted: LinesDeleted | None) -> bool:
    changed = False
    held = {i.id: item_row(i) for i in current.order_items}
    for item in order.order_items:
        values = _copied(item_row(item))
        old = held.pop(item.id, None)
        values["done_at"] = _done_at(values, old, w.now)
        if old is None:
            w.insert(order_items, values)
            changed = True
            continue
        diff = {k: v for k, v in values.items() if old[k] != v}
        if diff:
            w.update(order_items, old, diff)
            changed = True
    gone = set(held) if lines_deleted is None or not held else lines_deleted(held.keys())
    for item_id in gone:  # items upstream deleted
        w.delete(order_items, held[item_id])
        changed = True
    old_order = order_row(current)
    diff = {k: v for k, v in _counted(order, len(held.keys() - gone)).items() if old_order[k] != v}
    if diff:
        w.update(orders, old_order, diff)
        changed = True
    return changed


def _done_at(values: dict[str, Any], old: dict[str, Any] | None, now: datetime) -> datetime | None:
    """Upstream's done time when it has one; for an item the hub's unanswered intents made done, the time the hub
    first showed it done (kept, not moved by each projection); none while not done."""
    if values["status"] != _DONE:
        return None
    if values["done_at"] is not None:
        return values["done_at"]
    if old is not None and old["status"] == _DONE and old["done_at"] is not None:
        return old["done_at"]
    return now


def _delete(w: Writer, current: OrderWithItems) -> None:
    for item in current.order_items:
        w.delete(order_items, item_row(item))
    w.delete(orders, order_row(current))


def project_menu(w: Writer, restaurant_id: str, lines: Iterable[MenuLine]) -> int:
    """Make the hub's menu rows say what `lines` say (matched by name, case-insensitively). Returns rows written."""
    rows = {
        row["item_name"].strip().lower(): dict(row)
        for row in w.conn.execute(
            sa.select(menu_availability).where(menu_availability.c.restaurant_id == restaurant_id)
        ).mappings()
    }
    written = 0
    for line in lines:
        values = {"available": line.available, "reason": line.reason, "updated_by": line.updated_by}
        row = rows.get(line.item_name.strip().lower())
        if row is None:
            row = {"id": uuid4(), "restaurant_id": restaurant_id, "item_name": line.item_name, **values}
            w.insert(menu_availability, row)
            written += 1
        elif any(row[k] != v for k, v in values.items()):
            w.update(menu_availability, row, values)
            written += 1
    return written
