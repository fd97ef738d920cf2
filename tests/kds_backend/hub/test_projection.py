"""Projecting what the hub's copy of upstream shows onto the hub's own rows, on a real companion database."""

from __future__ import annotations

from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api_client.models import ItemStatus, OrderWithItems, Priority
from kds_backend.db.tables import deleted_rows, menu_availability
from kds_backend.db.writer import RowChange, write_transaction
from kds_backend.hub.projection import project_menu, project_orders
from kds_backend.orders import load_orders
from sync.engine.menu import MenuLine

from .rows import upstream_order


def project(engine: Engine, shown: dict, deleted: tuple = (), lines_deleted=None) -> list[RowChange]:
    with write_transaction(engine) as w:
        project_orders(w, "r1", shown, deleted, lines_deleted)
        return list(w.changes)


def held(engine: Engine, order: OrderWithItems) -> OrderWithItems | None:
    with engine.connect() as conn:
        return load_orders(conn, "r1", [order.id]).get(order.id)


def test_an_upstream_order_is_written_once_with_the_hubs_own_versions_and_again_only_when_it_changes(
    engine: Engine,
) -> None:
    order = upstream_order()
    first = project(engine, {order.id: order})
    assert [(c.table, c.type) for c in first] == [("orders", "INSERT")] + [("order_items", "INSERT")] * 2
    copy = held(engine, order)
    assert copy is not None and copy.version == 1 and copy.number == "U1"
    assert {i.id for i in copy.order_items} == {i.id for i in order.order_items}  # the same ids as upstream

    assert project(engine, {order.id: order}) == []  # nothing differs: nothing written, no event for the LAN

    burger, fries = order.order_items
    bumped = burger.model_copy(update={"status": ItemStatus.done})  # the hub's unanswered bump, not timed yet
    extra = fries.model_copy(update={"id": uuid4(), "name": "Shake"})
    changed = order.model_copy(update={"priority": Priority.rush, "order_items": [bumped, extra]})
    writes = project(engine, {order.id: changed})
    assert sorted((c.table, c.type) for c in writes) == [
        ("order_items", "DELETE"), ("order_items", "INSERT"), ("order_items", "UPDATE"), ("orders", "UPDATE")
    ]
    copy = held(engine, order)
    assert copy is not None and copy.priority is Priority.rush
    items = {i.name: i for i in copy.order_items}
    assert set(items) == {"Burger", "Shake"} and items["Burger"].status is ItemStatus.done
    done_at = items["Burger"].done_at
    assert done_at is not None  # the time the hub first showed it done...
    assert project(engine, {order.id: changed}) == []  # ...kept, not moved by the next projection
    with engine.connect() as conn:  # the dropped line is in the deletion log for LAN screens catching up
        assert conn.execute(sa.select(deleted_rows.c.row_id)).scalars().all() == [fries.id]


def test_an_order_leaves_the_hub_only_when_upstream_deleted_it(engine: Engine) -> None:
    order = upstream_order()
    project(engine, {order.id: order})
    assert project(engine, {order.id: None}) == []  # the mirror no longer holds it (retention): the hub keeps it
    assert held(engine, order) is not None
    gone = project(engine, {order.id: None}, deleted=(order.id,))
    assert [(c.table, c.type) for c in gone] == [("order_items", "DELETE")] * 2 + [("orders", "DELETE")]
    assert held(engine, order) is None


def test_a_line_upstream_does_not_have_leaves_the_hub_only_when_upstream_deleted_it(engine: Engine) -> None:
    """A LAN POS added a Shake at the hub: upstream's copy lacks it until the add is forwarded and echoed back.
    Projecting upstream's order in between must not take the Shake off every LAN screen."""
    order = upstream_order()
    burger, fries = order.order_items
    shake = fries.model_copy(update={"id": uuid4(), "name": "Shake"})
    project(engine, {order.id: order.model_copy(update={"order_items": [burger, fries, shake]})}, lines_deleted=set)
    asked: list[set] = []

    def deleted_upstream(ids) -> set:
        asked.append(set(ids))
        return {fries.id} & set(ids)

    writes = project(engine, {order.id: order.model_copy(update={"order_items": [burger]})}, (), deleted_upstream)
    # The fries: deleted upstream; the order's item_count follows (3 lines, now 2).
    assert [(c.table, c.type) for c in writes] == [("order_items", "DELETE"), ("orders", "UPDATE")]
    copy = held(engine, order)
    assert copy is not None and sorted(i.name for i in copy.order_items) == ["Burger", "Shake"]
    assert copy.item_count == 2
    assert asked == [{fries.id, shake.id}]


def test_the_menu_is_matched_by_name_and_written_only_where_it_differs(engine: Engine) -> None:
    lines = [MenuLine("Salmon", False, "sold out", "r1-kds-1"), MenuLine("Soup", True, None, None)]
    with write_transaction(engine) as w:
        assert project_menu(w, "r1", lines) == 2
    with write_transaction(engine) as w:
        assert project_menu(w, "r1", [MenuLine("SALMON", False, "sold out", "r1-kds-1")]) == 0
        assert project_menu(w, "r1", [MenuLine("salmon", True, None, "r1-expo-1")]) == 1
    with engine.connect() as conn:
        rows = {r.item_name: r.available for r in conn.execute(sa.select(menu_availability))}
    assert rows == {"Salmon": True, "Soup": True}


def test_the_hubs_copy_counts_its_own_lines_in_the_same_version_whatever_upstream_says(engine: Engine) -> None:
    """orders.item_count (what a LAN screen holds a commit for): the hub's own count of the lines it holds, set with
    the row it writes anyway, so a LAN screen gets one version of the order per projection, even from an upstream
    server without the column."""
    order = upstream_order().model_copy(update={"item_count": None})  # an upstream without the column
    first = project(engine, {order.id: order})
    assert [(c.table, c.type) for c in first] == [("orders", "INSERT")] + [("order_items", "INSERT")] * 2
    assert first[0].record is not None and first[0].record["item_count"] == 2
    burger, _fries = order.order_items
    fewer = order.model_copy(update={"order_items": [burger]})
    writes = project(engine, {order.id: fewer})
    assert sorted((c.table, c.type) for c in writes) == [("order_items", "DELETE"), ("orders", "UPDATE")]
    copy = held(engine, order)
    assert copy is not None and copy.item_count == 1 and copy.version == 2
