"""Orders and their items in the companion's database: loading, creating and saving them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from api_client.models import (
    ItemStatus,
    OrderIntake,
    OrderItemIntake,
    OrderItemPublic,
    OrderStatus,
    OrderWithItems,
)
from api_client.order_machine import derive_status

from .db.tables import order_items, orders
from .db.writer import Writer
from .load_routing import Balancer, balancer
from .prep_times import menu_prep
from .routing import route

CHANGE_GRACE = timedelta(seconds=10)
"""Items written within this time of their order count as part of it, not as changes after sending."""


def load_orders(conn: sa.Connection, restaurant_id: str, ids: Iterable[UUID]) -> dict[UUID, OrderWithItems]:
    ids = list(ids)
    if not ids:
        return {}
    order_rows = conn.execute(
        sa.select(orders).where(orders.c.restaurant_id == restaurant_id, orders.c.id.in_(ids))
    ).mappings()
    by_id: dict[UUID, dict[str, Any]] = {row["id"]: {**row, "order_items": []} for row in order_rows}
    if by_id:
        item_rows = conn.execute(
            sa.select(order_items)
            .where(order_items.c.order_id.in_(list(by_id)))
            .order_by(order_items.c.created_at, order_items.c.change_seq)
        ).mappings()
        for item in item_rows:
            by_id[item["order_id"]]["order_items"].append(dict(item))
    return {oid: OrderWithItems.model_validate(row) for oid, row in by_id.items()}


def as_loaded(order: OrderWithItems) -> OrderWithItems:
    """`order` as `load_orders` would read it back: its items by (created_at, change_seq)."""
    items = sorted(order.order_items, key=lambda i: (i.created_at, i.change_seq))
    if all(a is b for a, b in zip(items, order.order_items, strict=True)):
        return order
    return order.model_copy(update={"order_items": items})


def load_order(conn: sa.Connection, restaurant_id: str, order_id: UUID) -> OrderWithItems | None:
    return load_orders(conn, restaurant_id, [order_id]).get(order_id)


def item_values(
    restaurant_id: str,
    order_id: UUID,
    item: OrderItemIntake,
    routes: dict[str, str],
    *,
    changed_after_send: bool,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "id": item.id or uuid4(),
        "order_id": order_id,
        "restaurant_id": restaurant_id,
        "station": item.station or route(item.category, routes),
        "name": item.name,
        "quantity": item.quantity,
        "modifiers": list(item.modifiers),
        "notes": item.notes,
        "allergens": list(item.allergens),
        "course": item.course,
        "held": item.held,
        "status": ItemStatus.new.value,
        "changed_after_send": changed_after_send,
        "created_at": created_at,
    }


def with_fire_timing(values: dict[str, Any], prep: Mapping[str, int]) -> dict[str, Any]:
    """An item's row as it is sent (issue 19 item 1): the restaurant's prep time for it (`prep`:
    `prep_times.menu_prep`), and its course going to the kitchen now unless it is held."""
    return {
        **values,
        "prep_seconds": prep.get(str(values["name"]).strip().lower()),
        "fired_at": None if values["held"] else values["created_at"],
    }


def create_order(
    w: Writer,
    restaurant_id: str,
    intake: OrderIntake,
    routes: dict[str, str],
    *,
    defer: bool = False,
    prep: Mapping[str, int] | None = None,
    balance: Balancer | None = None,
) -> OrderWithItems:
    """Insert an order and its items. The caller has checked that the id is free. With `defer`, the rows
    are written at the writer's next `flush()` (see `Writer.insert`). `balance`: the restaurant's routing by load
    (read here if not given; a batch passes one, which counts its earlier orders' items)."""
    order_id = intake.id or uuid4()
    if prep is None:
        prep = menu_prep(w.conn, restaurant_id)
    order_row = w.insert(
        orders,
        {
            "id": order_id,
            "restaurant_id": restaurant_id,
            "number": intake.number,
            "source": intake.source.value,
            "type": intake.type.value,
            "table_label": intake.table_label,
            "server_name": intake.server_name,
            "guests": intake.guests,
            "customer_name": intake.customer_name,
            "notes": intake.notes,
            "priority": intake.priority.value,
            "status": OrderStatus.new.value,
            "created_at": intake.created_at or w.now,
            "due_at": intake.due_at,
            # On the insert, so the commit carries no second version of the order just for its count.
            "item_count": len(intake.items),
        },
        defer=defer,
    )
    rows = [
        item_values(restaurant_id, order_id, item, routes, changed_after_send=False, created_at=w.now)
        for item in intake.items
    ]
    (balance or balancer(w.conn, restaurant_id)).place(rows, set())
    items = [w.insert(order_items, with_fire_timing(values, prep), defer=defer) for values in rows]
    return OrderWithItems.model_validate({**order_row, "order_items": items})


def is_change_after_send(order: OrderWithItems, now: datetime) -> bool:
    """Whether a line written now to `order` is news to a kitchen that already has the ticket."""
    return order.status is not OrderStatus.new or now - order.created_at > CHANGE_GRACE


def add_items(
    w: Writer,
    order: OrderWithItems,
    new_items: list[dict[str, Any]],
) -> OrderWithItems:
    """Insert prepared item rows into `order` and move the order's status to match."""
    at = {i.station for i in order.order_items if i.status is not ItemStatus.voided}
    balancer(w.conn, order.restaurant_id).place(new_items, at)  # routing by load: may change their station
    prep = menu_prep(w.conn, order.restaurant_id)
    inserted = [
        OrderItemPublic.model_validate(w.insert(order_items, with_fire_timing(values, prep))) for values in new_items
    ]
    after = order.model_copy(update={"order_items": [*order.order_items, *inserted]})
    # The count goes with the status in the order's one new version (else the writer's settle adds another).
    after = after.model_copy(
        update={"status": derive_status(order.status, after.order_items), "item_count": len(after.order_items)}
    )
    return save_order(w, order.model_copy(update={"order_items": after.order_items}), after)


_ORDER_COLUMNS = [c.name for c in orders.c]
_ITEM_COLUMNS = [c.name for c in order_items.c]
_SERVER_OWNED = {"version", "change_seq", "updated_at"}
_STAMPED = ("done_at", "fired_at")
"""Item times the server stamps on its own clock in `save_order`, whatever the state machine guessed."""


def _row(model: Any, columns: list[str]) -> dict[str, Any]:
    # Read from the model's fields as they are (pydantic keeps them in __dict__; these models have no custom
    # serialisers): a model_dump would copy every field, an order's items included, and a drain of intents
    # dumps two rows per changed row.
    data = model.__dict__
    return {c: data[c] for c in columns}


def order_row(order: OrderWithItems) -> dict[str, Any]:
    """The order's row as the database holds it (plain values, no items)."""
    return _enum_values(_row(order, _ORDER_COLUMNS))


def item_row(item: OrderItemPublic) -> dict[str, Any]:
    """The item's row as the database holds it (plain values)."""
    return _enum_values(_row(item, _ITEM_COLUMNS))


SERVER_OWNED = frozenset(_SERVER_OWNED)
"""Columns every write stamps itself: never copied from elsewhere."""


def _unchanged(item: OrderItemPublic, old: OrderItemPublic | None) -> bool:
    """`item` is `old` itself (the state machine left it alone) and saving it would write nothing: its
    done time only changes when its status does (see `_done_at`)."""
    return item is old and (old.status is ItemStatus.done or old.done_at is None)


def _enum_values(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in row.items()}


def _done_at(old_row: dict[str, Any], status: str, now: datetime) -> datetime | None:
    """The item's done time: the server's clock when it becomes done, kept while done, cleared otherwise
    (unbump, recall), so a station's ticket time always ends at its last real bump."""
    if status != ItemStatus.done.value:
        return None
    if old_row["status"] == ItemStatus.done.value:
        return old_row["done_at"]  # still done: the time it was bumped, not the time of a later change
    return now


def _fired_at(old_row: dict[str, Any], held: bool, now: datetime) -> datetime | None:
    """When the item's course went to the kitchen: the server's clock when a held item fires, none while held,
    else unchanged (the state machine's own time is a screen's guess, as with done times)."""
    if held:
        return None
    return now if old_row["held"] else old_row["fired_at"]


def save_order(
    w: Writer, before: OrderWithItems, after: OrderWithItems, *, defer: bool = False, done_at: datetime | None = None
) -> OrderWithItems:
    """Write the rows of `after` that differ from `before`, each with a new version and change_seq.

    With `defer`, the rows are written at the writer's next `flush()` (see `Writer.update`). `done_at`: the done
    time of the items that become done (default: the writer's time).
    """
    items_before = {i.id: i for i in before.order_items}
    saved_items: list[OrderItemPublic] = []
    for item in after.order_items:
        old = items_before.get(item.id)
        if _unchanged(item, old):
            saved_items.append(item)
            continue
        new_row = _enum_values(_row(item, _ITEM_COLUMNS))
        if old is None:
            raise ValueError("save_order cannot insert items; use add_items")
        old_row = _enum_values(_row(old, _ITEM_COLUMNS))
        new_row["done_at"] = _done_at(old_row, new_row["status"], done_at or w.now)
        new_row["fired_at"] = _fired_at(old_row, new_row["held"], done_at or w.now)
        diff = {k: v for k, v in new_row.items() if k not in _SERVER_OWNED and old_row[k] != v}
        if not diff:
            saved_items.append(old)
            continue
        written = w.update(order_items, old_row, diff, defer=defer)
        saved_items.append(_saved(old, item, diff, written))
    old_order = _enum_values(_row(before, _ORDER_COLUMNS))
    new_order = _enum_values(_row(after, _ORDER_COLUMNS))
    diff = {k: v for k, v in new_order.items() if k not in _SERVER_OWNED and old_order[k] != v}
    if not diff:
        return before.model_copy(update={"order_items": saved_items})
    written = w.update(orders, old_order, diff, defer=defer)
    return _saved(before, after, diff, written, order_items=saved_items)


def _saved(old: Any, new: Any, diff: dict[str, Any], written: dict[str, Any], **more: Any) -> Any:
    """The model of a row as written: `old` with the changed fields of `new` (the model's own values, not
    the row's plain ones), the server's done time and the new version, change_seq and updated_at. The same
    as validating the written row, without validating it again."""
    update = {k: getattr(new, k) for k in diff if k not in _STAMPED}
    update.update({k: written[k] for k in ("version", "change_seq", "updated_at")}, **more)
    for key in _STAMPED:
        if key in written:
            update[key] = written[key]
    return old.model_copy(update=update)
