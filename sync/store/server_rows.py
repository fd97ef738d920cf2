"""Reading server rows as the server last sent them (each kept whole as JSON plus the columns queries need).

They are written in one place only, `read_rows`, from server answers and never from local taps.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from api_client.models import OrderItemPublic, OrderWithItems

from . import compiled
from .tables import order_items, orders, tombstones


def load_order(conn: sa.Connection, order_id: UUID) -> OrderWithItems | None:
    data = conn.execute(sa.select(orders.c.data).where(orders.c.id == str(order_id))).scalar_one_or_none()
    if data is None:
        return None
    rows = conn.execute(sa.select(order_items.c.data).where(order_items.c.order_id == str(order_id))).scalars()
    order = OrderWithItems.model_validate({**json.loads(data), "order_items": [json.loads(r) for r in rows]})
    items = sorted(order.order_items, key=line_order)
    return order.model_copy(update={"order_items": items})


def line_order(item: OrderItemPublic) -> tuple[datetime, str]:
    """A ticket's line order, whatever order SQLite returns rows in: by creation, then id (stable)."""
    return (item.created_at, str(item.id))


def held_items(conn: sa.Connection, ids: set[UUID]) -> tuple[dict[UUID, int | None], dict[UUID, frozenset[UUID]]]:
    """For the orders `ids` the store holds: each one's `item_count` as the server last sent it (None: a server or
    a row without the column) and its item ids. What a commit's held frames are checked against (sync/readpath/
    whole_tickets.py), on the hot path of every order update: compiled once. The count is read from the row's JSON:
    it needs no column, so no schema step either."""
    param = {"ids": compiled.ids_param(ids)}
    counts = {UUID(oid): (None if n is None else int(n)) for oid, n in _HELD_COUNTS.rows(conn, param)}
    items: dict[UUID, set[UUID]] = {}
    for oid, iid in _HELD_ITEMS.rows(conn, param):
        items.setdefault(UUID(oid), set()).add(UUID(iid))
    return counts, {oid: frozenset(ids_) for oid, ids_ in items.items()}


_HELD_COUNTS = compiled.Compiled(
    sa.select(orders.c.id, sa.func.json_extract(orders.c.data, "$.item_count").label("item_count")).where(
        orders.c.id.in_(compiled.json_ids("ids"))
    )
)
_HELD_ITEMS = compiled.Compiled(
    sa.select(order_items.c.order_id, order_items.c.id).where(order_items.c.order_id.in_(compiled.json_ids("ids")))
)


def order_ids(conn: sa.Connection) -> list[UUID]:
    ids: list[str] = list(conn.execute(sa.select(orders.c.id).order_by(orders.c.change_seq)).scalars())
    return [UUID(i) for i in ids]


def deleted_ids(conn: sa.Connection, table: str, ids: list[UUID]) -> set[UUID]:
    """Which of `ids` (rows of `table`) the server deleted (a tombstone is kept), as opposed to never seen or pruned
    by retention."""
    if not ids:
        return set()
    query = sa.select(tombstones.c.id).where(tombstones.c.tbl == table, tombstones.c.id.in_([str(i) for i in ids]))
    found: list[str] = list(conn.execute(query).scalars())
    return {UUID(i) for i in found}
