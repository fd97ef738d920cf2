"""Server rows as the server last sent them: written only from server answers, never from local taps.

Each row is kept whole as JSON (the wire model) plus the columns queries need. A row is replaced only by a
newer version, so a late or replayed answer never moves a row backwards.
"""

from __future__ import annotations

import json
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert

from api_client.models import MenuAvailabilityPublic, OrderItemPublic, OrderWithItems

from .tables import menu_availability, order_items, orders


def _upsert(conn: sa.Connection, table: sa.Table, values: dict[str, object]) -> None:
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: stmt.excluded[k] for k in values if k != "id"},
        where=table.c.version < stmt.excluded.version,
    )
    conn.execute(stmt)


def save_order(conn: sa.Connection, order: OrderWithItems) -> None:
    """Store an order and its items, each row only if newer than what is stored."""
    _upsert(
        conn,
        orders,
        {
            "id": str(order.id),
            "restaurant_id": order.restaurant_id,
            "status": order.status.value,
            "version": order.version,
            "change_seq": order.change_seq,
            "cleared": order.cleared_at is not None,
            "data": order.model_dump_json(exclude={"order_items"}),
        },
    )
    for item in order.order_items:
        save_item(conn, item)


def save_item(conn: sa.Connection, item: OrderItemPublic) -> None:
    _upsert(
        conn,
        order_items,
        {
            "id": str(item.id),
            "order_id": str(item.order_id),
            "station": item.station,
            "status": item.status.value,
            "version": item.version,
            "change_seq": item.change_seq,
            "done_at": item.done_at.timestamp() if item.done_at is not None else None,
            "data": item.model_dump_json(),
        },
    )


def save_menu_item(conn: sa.Connection, row: MenuAvailabilityPublic) -> None:
    _upsert(
        conn,
        menu_availability,
        {
            "id": str(row.id),
            "restaurant_id": row.restaurant_id,
            "item_name": row.item_name,
            "version": row.version,
            "change_seq": row.change_seq,
            "data": row.model_dump_json(),
        },
    )


def load_order(conn: sa.Connection, order_id: UUID) -> OrderWithItems | None:
    data = conn.execute(sa.select(orders.c.data).where(orders.c.id == str(order_id))).scalar_one_or_none()
    if data is None:
        return None
    rows = conn.execute(sa.select(order_items.c.data).where(order_items.c.order_id == str(order_id))).scalars()
    order = OrderWithItems.model_validate({**json.loads(data), "order_items": [json.loads(r) for r in rows]})
    # A stable item order (as the ticket lists them), whatever order SQLite returns rows in.
    items = sorted(order.order_items, key=lambda i: (i.created_at, str(i.id)))
    return order.model_copy(update={"order_items": items})


def order_ids(conn: sa.Connection) -> list[UUID]:
    return [UUID(i) for i in conn.execute(sa.select(orders.c.id).order_by(orders.c.change_seq)).scalars()]
