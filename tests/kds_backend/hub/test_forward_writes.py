"""The hub's queue of POS writes for upstream: what is queued, and what each answer of upstream does to it."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from api_client.client import KdsApiClient
from api_client.errors import ServerError
from api_client.models import OrderIntake
from kds_backend.db.database import Database
from kds_backend.db.tables import orders, upstream_writes
from kds_backend.db.writer import Writer
from kds_backend.hub.forward_writes import WriteForwarder, queue_writes
from kds_backend.orders import create_order


def upstream(answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]) -> KdsApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return KdsApiClient("http://upstream", "anon", transport=httpx.MockTransport(handler))


def queued(db: Database) -> list[tuple[str, str, str | None]]:
    rows = db.read(lambda c: list(c.execute(sa.select(upstream_writes).order_by(upstream_writes.c.seq))))
    return [(r.op, r.table_name, r.failed) for r in rows]


def make_order(db: Database, number: str) -> None:
    intake = OrderIntake.model_validate({"number": number, "items": [{"name": "Burger", "station": "grill"}]})

    def write(w: Writer) -> None:
        mark = len(w.changes)
        create_order(w, "r1", intake, {})
        queue_writes(w, "r1", w.changes[mark:])

    db.write(write)


async def test_an_order_is_queued_as_the_rows_the_hub_made_with_only_what_a_pos_may_set(db: Database) -> None:
    make_order(db, "Q1")
    assert queued(db) == [("INSERT", "orders", None), ("INSERT", "order_items", None)]
    seen: list[httpx.Request] = []
    async with upstream(lambda r: httpx.Response(201), seen) as api:
        await WriteForwarder(db, api).drain()
    assert [(r.method, r.url.path) for r in seen] == [("POST", "/rest/v1/orders"), ("POST", "/rest/v1/order_items")]
    [order] = json.loads(seen[0].content)
    assert order["number"] == "Q1" and order["id"] and "version" not in order and "change_seq" not in order
    [item] = json.loads(seen[1].content)
    assert item["order_id"] == order["id"] and item["station"] == "grill" and "done_at" not in item
    assert queued(db) == []


async def test_a_resent_insert_that_upstream_already_has_counts_as_delivered(db: Database) -> None:
    make_order(db, "Q2")
    duplicate = {"code": "23505", "message": "duplicate key", "details": None, "hint": None}
    async with upstream(lambda r: httpx.Response(409, json=duplicate), []) as api:
        await WriteForwarder(db, api).drain()
    assert queued(db) == []


async def test_a_write_upstream_refuses_for_good_is_set_aside_and_the_queue_goes_on(db: Database) -> None:
    make_order(db, "Q3")
    make_order(db, "Q4")
    denied = {"code": "42501", "message": "permission denied for table orders", "details": None, "hint": None}
    seen: list[httpx.Request] = []
    first_refused = lambda r: httpx.Response(403, json=denied) if len(seen) == 1 else httpx.Response(201)  # noqa: E731
    async with upstream(first_refused, seen) as api:
        await WriteForwarder(db, api).drain()
    assert queued(db) == [("INSERT", "orders", "403 42501: permission denied for table orders")]
    assert len(seen) == 4


async def test_while_upstream_does_not_answer_everything_stays_queued_in_order(db: Database) -> None:
    make_order(db, "Q5")
    async with upstream(lambda r: httpx.Response(503), []) as api:
        with pytest.raises(ServerError):
            await WriteForwarder(db, api).drain()
    assert queued(db) == [("INSERT", "orders", None), ("INSERT", "order_items", None)]


def make_notes_update(db: Database, number: str, notes: str) -> str:
    """A LAN POS's PATCH of an order's notes at the hub, queued for upstream as the route does it."""

    def write(w: Writer) -> str:
        row = dict(w.conn.execute(sa.select(orders).where(orders.c.number == number)).mappings().one())
        mark = len(w.changes)
        w.update(orders, row, {"notes": notes})
        queue_writes(w, "r1", w.changes[mark:], ("orders", {"notes": notes}))
        return str(row["id"])

    return db.write(write)


async def test_an_update_upstream_took_is_kept_with_upstreams_change_seqs_and_never_resent(db: Database) -> None:
    make_order(db, "Q6")
    order_id = make_notes_update(db, "Q6", "no onions")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            return httpx.Response(200, json=[{"id": order_id, "change_seq": 4321}])
        return httpx.Response(201)

    async with upstream(answer, seen) as api:
        forwarder = WriteForwarder(db, api)
        await forwarder.drain()
        await forwarder.drain()  # nothing is waiting any more: nothing is sent again
    patch = seen[-1]
    assert [r.method for r in seen] == ["POST", "POST", "PATCH"]
    assert patch.url.params["id"] == f"in.({order_id})" and json.loads(patch.content) == {"notes": "no onions"}
    assert patch.headers["Prefer"] == "return=representation"
    rows = db.read(lambda c: list(c.execute(sa.select(upstream_writes))))
    assert [(r.op, r.settled, r.settled_at is not None) for r in rows] == [("UPDATE", {order_id: 4321}, True)]
