"""The one writer of server rows in the store: catch-up pages, realtime pushes and RPC answers alike.

`sync.readpath.merge.decide` is the rule; this module applies it to the SQLite rows. Rows compare by change_seq
(not version) because change_seq stays ordered across a delete and re-insert of the same id. Deletes leave
tombstones in the file (`tombstones`), so a late push, a replayed frame or a stale RPC answer carrying a
deleted row is buried, before and after a restart. The per-table catch-up cursors live here too.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert

from api_client.models import MenuAvailabilityPublic, OrderItemPublic, OrderPublic, OrderWithItems
from api_client.plant import planted
from sync.readpath.merge import (
    SOURCES,
    Change,
    Delete,
    Row,
    Source,
    Table,
    Tombstone,
    Upsert,
    decide,
    flatten,
    table_of,
)

from .tables import menu_availability, order_items, orders, sync_cursor, tombstones

_TABLES: dict[Table, sa.Table] = {"orders": orders, "order_items": order_items, "menu_availability": menu_availability}


def load_cursor(conn: sa.Connection) -> dict[Source, int] | None:
    """The stored cursor, or None when the file has never been caught up (a snapshot comes first)."""
    stored = {r.tbl: r.seq for r in conn.execute(sa.select(sync_cursor))}
    if not all(t in stored for t in SOURCES):
        return None
    return {t: int(stored[t]) for t in SOURCES}


def save_cursor(conn: sa.Connection, cursor: Mapping[Source, int]) -> None:
    for table, seq in cursor.items():
        stmt = insert(sync_cursor).values(tbl=table, seq=int(seq))
        conn.execute(stmt.on_conflict_do_update(index_elements=[sync_cursor.c.tbl], set_={"seq": stmt.excluded.seq}))


class Applied(NamedTuple):
    changed: set[UUID]
    """The orders whose rows changed (for the UI)."""
    orphaned: set[UUID]
    """Orders that pushed items (not REST rows) belong to but this store neither held nor saw deleted when the item
    came: the item was not stored, and a catch-up must bring the order with it (frames reordered across commits)."""


def apply_changes(
    conn: sa.Connection, changes: Iterable[Change], *, reset: bool = False, now: float | None = None
) -> set[UUID]:
    """Apply in order; returns the ids of the orders whose rows changed (for the UI). `reset` drops every
    server row first (a snapshot): what it held counts as changed, so closed tickets leave the screen.
    Tombstones survive a reset: a snapshot read before a DELETE we already know of must not bring the row back.
    `now` (wall clock) dates new tombstones, for pruning."""
    return apply_batch(conn, changes, reset=reset, now=now).changed


def apply_batch(
    conn: sa.Connection, changes: Iterable[Change], *, reset: bool = False, now: float | None = None
) -> Applied:
    """`apply_changes`, also telling which pushed items' orders are missing (see `Applied.orphaned`): known from
    the rows the batch reads anyway, so the read path asks no further query."""
    changes = list(changes)
    touched: set[UUID] = set()
    if reset:
        held: list[str] = list(conn.execute(sa.select(orders.c.id)).scalars())
        touched.update(UUID(i) for i in held)
        # Items first: they reference orders.
        for table in (order_items, orders, menu_availability):
            conn.execute(table.delete())
    if not changes:
        return Applied(touched, set())
    at = time.time() if now is None else now
    batch = _Batch(_cursor(conn), changes)
    for change in changes:
        if isinstance(change, Delete):
            touched.update(batch.delete(change, at))
        else:
            touched.update(batch.upsert(change))
    return Applied(touched, batch.orphaned)


def save_order(conn: sa.Connection, order: OrderWithItems) -> set[UUID]:
    """An order with its items as the server answered (an RPC result), through the same rule as a push."""
    return apply_changes(conn, [Upsert(r) for r in flatten([order])])


def save_menu_item(conn: sa.Connection, row: MenuAvailabilityPublic) -> None:
    apply_changes(conn, [Upsert(row)])


def max_received(conn: sa.Connection) -> int:
    """The highest logical time a stored tombstone was received at (the catch-up clock resumes above it)."""
    return int(conn.execute(sa.select(sa.func.max(tombstones.c.received))).scalar_one_or_none() or 0)


def prune_tombstones(conn: sa.Connection, before: float) -> int:
    """Forget tombstones dated before `before` (wall clock): stale copies that old no longer travel."""
    return conn.execute(tombstones.delete().where(tombstones.c.at < before)).rowcount


def _cursor(conn: sa.Connection) -> sqlite3.Cursor:
    # The hot path of every push: plain SQL on the DBAPI connection of the same transaction, because building and
    # compiling a SQLAlchemy expression per row cost more than the row's whole write (issue 15's profile).
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver.cursor()


def _upsert_sql(table: sa.Table) -> str:
    names = [c.name for c in table.columns]
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "id")
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


_UPSERT_SQL = {name: _upsert_sql(table) for name, table in _TABLES.items()}
_TOMBSTONE_SQL = (
    "INSERT INTO tombstones (tbl, id, seq, received, at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tbl, id) DO UPDATE SET seq = excluded.seq, received = excluded.received, at = excluded.at"
)
_CHUNK = 500  # ids per IN (...): well under SQLite's limit on bound variables


class _Held(NamedTuple):
    change_seq: int
    order_id: str | None  # an item's order


class _Batch:
    """What a batch of changes needs from the file (held rows, tombstones), read in a few queries up front and
    kept current as the batch writes, so each change costs its one write and no reads."""

    def __init__(self, cur: sqlite3.Cursor, changes: list[Change]) -> None:
        self.cur = cur
        ids: dict[Table, set[str]] = {name: set() for name in _TABLES}
        for change in changes:
            if isinstance(change, Delete):
                ids[change.table].add(str(change.id))
                continue
            row = change.row
            ids[table_of(row)].add(str(row.id))  # type: ignore[index]
            if isinstance(row, OrderItemPublic):
                ids["orders"].add(str(row.order_id))
        self.orphaned: set[UUID] = set()
        self.held: dict[tuple[Table, str], _Held | None] = {}
        self.tombstones: dict[tuple[Table, str], Tombstone | None] = {}
        for name, wanted in ids.items():
            order_id = "order_id" if name == "order_items" else "NULL"
            for chunk in _chunks(sorted(wanted)):
                marks = ", ".join("?" * len(chunk))
                self.held.update({(name, i): None for i in chunk})
                self.tombstones.update({(name, i): None for i in chunk})
                for row_id, seq, parent in cur.execute(
                    f"SELECT id, change_seq, {order_id} FROM {name} WHERE id IN ({marks})", chunk
                ):
                    self.held[(name, row_id)] = _Held(int(seq), parent)
                for row_id, seq, received in cur.execute(
                    f"SELECT id, seq, received FROM tombstones WHERE tbl = ? AND id IN ({marks})", [name, *chunk]
                ):
                    self.tombstones[(name, row_id)] = Tombstone(int(seq), int(received))

    def upsert(self, change: Upsert) -> set[UUID]:
        row = change.row
        name = table_of(row)
        assert name in _TABLES
        key = (name, str(row.id))
        if change.read_at is None and isinstance(row, OrderItemPublic):
            # A pushed item of an order neither held nor deleted: pushed before its order. REST rows never count
            # (closed orders' items are left out of pages on purpose).
            order_key: tuple[Table, str] = ("orders", str(row.order_id))
            if self.held[order_key] is None and self.tombstones[order_key] is None:
                self.orphaned.add(row.order_id)
        local = self.held[key]
        tombstone = self.tombstones[key] if local is None else None
        if not decide(None if local is None else local.change_seq, tombstone, row.change_seq, change.read_at).changed:
            return set()
        parent = str(row.order_id) if isinstance(row, OrderItemPublic) else None
        if parent is not None and self.held[("orders", parent)] is None:
            # An item of an order this screen does not hold (closed before we looked, or deleted): nothing shows it.
            return set()
        self.cur.execute(_UPSERT_SQL[name], _values(row))
        self.held[key] = _Held(row.change_seq, parent)
        if tombstone is not None:
            # A newer incarnation (a REST read after the delete saw it): the tombstone is behind it now.
            self.cur.execute("DELETE FROM tombstones WHERE tbl = ? AND id = ?", key)
            self.tombstones[key] = None
        if isinstance(row, OrderPublic):
            return {row.id}
        if isinstance(row, OrderItemPublic):
            return {row.order_id}
        return set()

    def delete(self, change: Delete, at: float) -> set[UUID]:
        if planted("ignore_deletes"):
            return set()  # planted bug (fault harness): a deleted row stays on this screen
        key = (change.table, str(change.id))
        held = self.held[key]
        if held is not None and change.exact and held.change_seq > change.after_seq:
            return set()  # the log's delete is older than the row we hold: a later incarnation, it stays
        touched: set[UUID] = set()
        if held is not None:
            if change.table == "orders":
                self.cur.execute("DELETE FROM order_items WHERE order_id = ?", (key[1],))
                for other, item in self.held.items():
                    if other[0] == "order_items" and item is not None and item.order_id == key[1]:
                        self.held[other] = None
                touched.add(change.id)
            elif change.table == "order_items":
                assert held.order_id is not None
                touched.add(UUID(held.order_id))
            self.cur.execute(f"DELETE FROM {change.table} WHERE id = ?", (key[1],))
            self.held[key] = None
        if planted("drop_tombstones"):
            return touched
        old = self.tombstones[key]
        seq = max(change.after_seq, held.change_seq if held is not None else 0, old.seq if old else 0)
        received = max(change.received, old.received if old else 0)
        self.cur.execute(_TOMBSTONE_SQL, (*key, seq, received, at))
        self.tombstones[key] = Tombstone(seq, received)
        return touched


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _values(row: Row) -> dict[str, object]:
    common = {"id": str(row.id), "version": row.version, "change_seq": row.change_seq}
    if isinstance(row, OrderPublic):
        # Stored without embedded items: each item is its own row, merged on its own.
        data = row.model_dump_json(exclude={"order_items"})
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
