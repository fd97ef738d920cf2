"""The read path's writes: catch-up and realtime changes applied by change_seq, and the per-table cursors.

`sync.readpath.merge.decide` is the rule; this module applies it to the SQLite rows. Rows compare by change_seq
(not version) because change_seq stays ordered across a delete and re-insert of the same id. Tombstones are not
kept yet: a delete removes the row, and a stale copy arriving later is settled by the next catch-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert

from api_client.models import MenuAvailabilityPublic, OrderItemPublic, OrderPublic
from sync.readpath.merge import TABLES, Change, Delete, Row, Table, Upsert, decide, table_of

from .tables import menu_availability, order_items, orders, sync_cursor

_TABLES: dict[Table, sa.Table] = {"orders": orders, "order_items": order_items, "menu_availability": menu_availability}


def load_cursor(conn: sa.Connection) -> dict[Table, int] | None:
    """The stored cursor, or None when the file has never been caught up (a snapshot comes first)."""
    stored = {r.tbl: r.seq for r in conn.execute(sa.select(sync_cursor))}
    if not all(t in stored for t in TABLES):
        return None
    return {t: int(stored[t]) for t in TABLES}


def save_cursor(conn: sa.Connection, cursor: Mapping[Table, int]) -> None:
    for table, seq in cursor.items():
        stmt = insert(sync_cursor).values(tbl=table, seq=int(seq))
        conn.execute(stmt.on_conflict_do_update(index_elements=[sync_cursor.c.tbl], set_={"seq": stmt.excluded.seq}))


def apply_changes(conn: sa.Connection, changes: Iterable[Change], *, reset: bool = False) -> set[UUID]:
    """Apply in order; returns the ids of the orders whose rows changed (for the UI). `reset` drops every
    server row first (a snapshot): what it held counts as changed, so closed tickets leave the screen."""
    touched: set[UUID] = set()
    if reset:
        touched.update(UUID(i) for i in conn.execute(sa.select(orders.c.id)).scalars())
        # Items first: they reference orders.
        for table in (order_items, orders, menu_availability):
            conn.execute(table.delete())
    for change in changes:
        if isinstance(change, Delete):
            touched.update(_delete(conn, change))
        else:
            touched.update(_upsert(conn, change))
    return touched


def _upsert(conn: sa.Connection, change: Upsert) -> set[UUID]:
    row = change.row
    name = table_of(row)
    table = _TABLES[name]
    local = conn.execute(sa.select(table.c.change_seq).where(table.c.id == str(row.id))).scalar_one_or_none()
    if not decide(local, None, row.change_seq, change.read_at).changed:
        return set()
    if isinstance(row, OrderItemPublic):
        held = conn.execute(sa.select(orders.c.id).where(orders.c.id == str(row.order_id))).first()
        if held is None:
            # An item of an order this screen does not hold (closed before we looked): nothing shows it.
            return set()
    values = _values(row)
    stmt = insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.id], set_={k: stmt.excluded[k] for k in values}))
    if isinstance(row, OrderPublic):
        return {row.id}
    if isinstance(row, OrderItemPublic):
        return {row.order_id}
    return set()


def _delete(conn: sa.Connection, change: Delete) -> set[UUID]:
    table = _TABLES[change.table]
    if change.table == "orders":
        conn.execute(order_items.delete().where(order_items.c.order_id == str(change.id)))
        gone = conn.execute(orders.delete().where(orders.c.id == str(change.id))).rowcount
        return {change.id} if gone else set()
    if change.table == "order_items":
        owner = conn.execute(
            sa.select(order_items.c.order_id).where(order_items.c.id == str(change.id))
        ).scalar_one_or_none()
        conn.execute(order_items.delete().where(order_items.c.id == str(change.id)))
        return {UUID(owner)} if owner is not None else set()
    conn.execute(table.delete().where(table.c.id == str(change.id)))
    return set()


def _values(row: Row) -> dict[str, object]:
    common = {"id": str(row.id), "version": row.version, "change_seq": row.change_seq}
    if isinstance(row, OrderPublic):
        # Stored without embedded items: each item is its own row, merged on its own.
        data = OrderPublic.model_validate(row.model_dump(exclude={"order_items"})).model_dump_json()
        return {
            **common,
            "restaurant_id": row.restaurant_id,
            "status": row.status.value,
            "cleared": row.cleared_at is not None,
            "data": data,
        }
    if isinstance(row, OrderItemPublic):
        return {
            **common,
            "order_id": str(row.order_id),
            "station": row.station,
            "status": row.status.value,
            "done_at": row.done_at.timestamp() if row.done_at is not None else None,
            "data": row.model_dump_json(),
        }
    assert isinstance(row, MenuAvailabilityPublic)
    return {**common, "restaurant_id": row.restaurant_id, "item_name": row.item_name, "data": row.model_dump_json()}
