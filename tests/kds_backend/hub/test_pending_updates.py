"""A LAN POS's updates laid over upstream's rows until the hub's copy of upstream shows them."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api_client.models import ItemStatus, OrderWithItems
from kds_backend.db.tables import upstream_writes
from kds_backend.db.writer import write_transaction
from kds_backend.hub import pending_updates

from .rows import upstream_order


def upstream_copy() -> OrderWithItems:
    """An order as the hub's copy of upstream holds it: the order at change_seq 510, its lines at 500 and 501."""
    order = upstream_order("P1", change_seq=499)
    return order.model_copy(update={"change_seq": 510})


def queue_void(engine: Engine, item_id, settled: dict | None = None, settled_ago: timedelta | None = None) -> None:
    with write_transaction(engine) as w:
        w.conn.execute(
            upstream_writes.insert().values(
                restaurant_id="r1", table_name="order_items", op="UPDATE", created_at=w.now,
                body={"ids": [str(item_id)], "values": {"status": "voided"}},
                settled=None if settled is None else {str(k): v for k, v in settled.items()},
                settled_at=None if settled_ago is None else w.now - settled_ago,
            )
        )


def shown(engine: Engine, order: OrderWithItems) -> OrderWithItems:
    with engine.connect() as conn:
        return pending_updates.laid_over(order, pending_updates.load(conn, "r1"))


def statuses(order: OrderWithItems) -> dict[str, ItemStatus]:
    return {i.name: i.status for i in order.order_items}


def waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(upstream_writes)).scalar_one()


def prune(engine: Engine, order: OrderWithItems) -> None:
    with write_transaction(engine) as w:
        pending_updates.prune(w, pending_updates.load(w.conn, "r1"), [order], w.now)


def test_a_queued_void_shows_until_the_copy_has_upstreams_answer_then_is_forgotten(engine: Engine) -> None:
    order = upstream_copy()
    burger, fries = order.order_items
    assert shown(engine, order) is order  # nothing queued: upstream's rows as they are
    queue_void(engine, burger.id)
    assert statuses(shown(engine, order)) == {"Burger": ItemStatus.voided, "Fries": ItemStatus.new}
    prune(engine, order)
    assert waiting(engine) == 1  # not answered yet: kept

    with write_transaction(engine) as w:  # upstream took it: the line is at change_seq 900 there now
        w.conn.execute(upstream_writes.update().values(settled={str(burger.id): 900}, settled_at=w.now))
    assert statuses(shown(engine, order))["Burger"] is ItemStatus.voided  # the copy is behind: still laid over
    prune(engine, order)
    assert waiting(engine) == 1

    echoed = order.model_copy(
        update={"order_items": [burger.model_copy(update={"status": ItemStatus.voided, "change_seq": 900}), fries]}
    )
    prune(engine, echoed)
    assert waiting(engine) == 0
    # A later change upstream (the line un-voided by the restaurant) shows as it is: nothing is laid over it.
    later = burger.model_copy(update={"status": ItemStatus.new, "change_seq": 950})
    unvoided = echoed.model_copy(update={"order_items": [later, fries]})
    assert statuses(shown(engine, unvoided))["Burger"] is ItemStatus.new


def test_a_settled_void_is_not_laid_over_a_newer_upstream_row_and_is_forgotten_after_a_while(engine: Engine) -> None:
    order = upstream_copy()
    burger, _ = order.order_items
    queue_void(engine, burger.id, settled={burger.id: burger.change_seq}, settled_ago=timedelta(seconds=1))
    assert statuses(shown(engine, order))["Burger"] is ItemStatus.new  # the copy is at upstream's answer already
    queue_void(engine, uuid4(), settled={uuid4(): 1}, settled_ago=pending_updates.KEEP_SETTLED + timedelta(1))
    prune(engine, order.model_copy(update={"order_items": []}))
    assert waiting(engine) == 1  # the old one went; the first stays until its order is projected again
