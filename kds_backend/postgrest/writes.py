"""PostgREST inserts and updates of orders and items, under the kitchen's rules.

A generic PostgREST would write the rows as given; the companion applies what its database triggers
and policies would in a Supabase project: rows land in the caller's restaurant only, every row written
gets a new version and change sequence (through the Writer), a line added to or changed on a ticket the
kitchen already has is flagged `changed_after_send`, and the order's status follows its items.
Errors carry the PostgreSQL codes the same write would raise there (23505, 23503, 42501).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from pydantic import BaseModel

from api_client.models import (
    OrderInsert,
    OrderItemInsert,
    OrderItemPublic,
    OrderItemUpdate,
    OrderStatus,
    OrderUpdate,
    OrderWithItems,
)
from api_client.order_machine import derive_status

from ..db.tables import order_items, orders
from ..db.writer import Writer
from ..errors import ApiError
from ..orders import add_items, is_change_after_send, load_orders, save_order
from .read import chunks

ITEM_CHANGES = frozenset({"quantity", "modifiers", "notes", "allergens", "status"})
"""Item columns whose change a cook must notice (voiding is a change of `status`)."""
CLOSED = (OrderStatus.served, OrderStatus.cancelled)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Enum members as their values, as the database and realtime records hold them."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def _row(model: BaseModel) -> dict[str, Any]:
    return _plain(model.model_dump(mode="python"))


def _check_restaurant(table: str, restaurant_ids: Iterable[str | None], restaurant_id: str) -> None:
    if any(r is not None and r != restaurant_id for r in restaurant_ids):
        raise ApiError(403, "42501", f'new row violates row-level security policy for table "{table}"')


def _first_repeat(ids: Iterable[UUID]) -> UUID | None:
    seen: set[UUID] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    return None


def _check_new_ids(w: Writer, table: sa.Table, ids: Sequence[UUID]) -> None:
    duplicate = _first_repeat(ids)
    if duplicate is None:
        # The primary key is global, as in PostgreSQL: an id used in another restaurant is taken too.
        duplicate = w.conn.execute(sa.select(table.c.id).where(table.c.id.in_(list(ids)))).scalars().first()
    if duplicate is not None:
        raise ApiError(
            409,
            "23505",
            f'duplicate key value violates unique constraint "{table.name}_pkey"',
            details=f"Key (id)=({duplicate}) already exists.",
        )


def insert_orders(w: Writer, restaurant_id: str, rows: Sequence[OrderInsert]) -> list[UUID]:
    """Insert orders (without items) and return their ids in body order."""
    _check_restaurant("orders", (r.restaurant_id for r in rows), restaurant_id)
    ids = [r.id or uuid4() for r in rows]
    _check_new_ids(w, orders, ids)
    for order_id, row in zip(ids, rows, strict=True):
        values = _plain(row.model_dump(mode="python", exclude={"id", "restaurant_id", "created_at"}))
        w.insert(
            orders,
            {**values, "id": order_id, "restaurant_id": restaurant_id, "created_at": row.created_at or w.now},
        )
    return ids


def _parents(w: Writer, restaurant_id: str, order_ids: Iterable[UUID]) -> dict[UUID, OrderWithItems]:
    wanted = list(dict.fromkeys(order_ids))
    found = load_orders(w.conn, restaurant_id, wanted)
    missing = next((i for i in wanted if i not in found), None)
    if missing is not None:
        # Another restaurant's order is as absent as a made-up id: nothing about it leaks.
        raise ApiError(
            409,
            "23503",
            'insert or update on table "order_items" violates foreign key constraint "order_items_order_id_fkey"',
            details=f'Key (order_id)=({missing}) is not present in table "orders".',
        )
    return found


def insert_items(w: Writer, restaurant_id: str, rows: Sequence[OrderItemInsert]) -> list[UUID]:
    """Insert items into orders of this restaurant; return their ids in body order."""
    _check_restaurant("order_items", (r.restaurant_id for r in rows), restaurant_id)
    ids = [r.id or uuid4() for r in rows]
    _check_new_ids(w, order_items, ids)
    parents = _parents(w, restaurant_id, (r.order_id for r in rows))
    for order in parents.values():
        if order.status in CLOSED:
            raise ApiError(409, "KDS409", f"Order {order.number} is {order.status.value}: items cannot be added")
    by_order: dict[UUID, list[dict[str, Any]]] = {}
    for item_id, row in zip(ids, rows, strict=True):
        order = parents[row.order_id]
        flagged = row.changed_after_send
        if flagged is None:
            flagged = is_change_after_send(order, w.now)
        values = _plain(row.model_dump(mode="python", exclude={"id", "restaurant_id", "created_at"}))
        by_order.setdefault(order.id, []).append(
            {
                **values,
                "id": item_id,
                "restaurant_id": restaurant_id,
                "changed_after_send": flagged,
                "created_at": row.created_at or w.now,
            }
        )
    for order_id, values_list in by_order.items():
        add_items(w, parents[order_id], values_list)
    return ids


def _changes(update: BaseModel) -> dict[str, Any]:
    """The columns a PATCH body sets (a key present with null sets NULL; an absent key is left alone)."""
    return _plain(update.model_dump(mode="python", include=update.model_fields_set))


def update_orders(w: Writer, restaurant_id: str, ids: Sequence[UUID], update: OrderUpdate) -> None:
    """Write `update` over each order (each gets a new version, even if no value differs, as UPDATE does)."""
    values = _changes(update)
    by_id: dict[UUID, dict[str, Any]] = {}
    for chunk in chunks(ids):
        rows = w.conn.execute(sa.select(orders).where(orders.c.restaurant_id == restaurant_id, orders.c.id.in_(chunk)))
        by_id.update((row["id"], dict(row)) for row in rows.mappings())
    for order_id in ids:
        before = by_id[order_id]
        cancelling = values.get("status") == OrderStatus.cancelled.value
        if cancelling and before["status"] == OrderStatus.served.value:
            raise ApiError(
                409,
                "KDS409",
                f"Order {before['number']} was already served: it cannot be cancelled",
                hint="Only orders that are not served yet can be cancelled.",
            )
        w.update(orders, before, values)


def _item_after(item: OrderItemPublic, values: dict[str, Any], flag: bool) -> dict[str, Any]:
    """The columns to write for one matched item: the body, plus the change flag if a cook must notice."""
    before = _row(item)
    if flag and any(before[k] != v for k, v in values.items() if k in ITEM_CHANGES):
        return {**values, "changed_after_send": True}
    return values


def update_items(w: Writer, restaurant_id: str, ids: Sequence[UUID], update: OrderItemUpdate) -> None:
    """Write `update` over each item, flag changes the kitchen must see, and re-derive each order's status."""
    values = _changes(update)
    wanted = set(ids)
    mine = order_items.c.restaurant_id == restaurant_id
    order_ids: dict[UUID, None] = {}
    for chunk in chunks(ids):
        found = w.conn.execute(sa.select(order_items.c.order_id).where(mine, order_items.c.id.in_(chunk))).scalars()
        order_ids.update(dict.fromkeys(found))
    for order in load_orders(w.conn, restaurant_id, order_ids).values():
        # Same rule as items added later: a ticket the kitchen has (not new, or shown for a while).
        flag = is_change_after_send(order, w.now)
        items: list[OrderItemPublic] = []
        for item in order.order_items:
            if item.id in wanted:
                saved = w.update(order_items, _row(item), _item_after(item, values, flag))
                item = OrderItemPublic.model_validate(saved)
            items.append(item)
        written = order.model_copy(update={"order_items": items})
        status = derive_status(order.status, items)
        save_order(w, written, written.model_copy(update={"status": status}))
