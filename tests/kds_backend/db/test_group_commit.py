"""Group commit: writes queued behind a running transaction share the next one, and fail alone.

Each test holds the writer thread with a write that waits on an event, queues the writes under test behind
it (so they are written as one group), then lets it go. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from api_client.models import OrderIntake
from kds_backend.changes import ChangeHub
from kds_backend.db.database import Database
from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.tables import idempotency_keys, menu_availability, order_items, orders
from kds_backend.db.writer import Writer
from kds_backend.errors import ApiError
from kds_backend.intake import OrderRequest, StoredResponse, intake_orders, request_fingerprint
from tests.helpers.timeouts import scaled

PATH = "/api/v1/orders"
TIMEOUT_S = scaled(30)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engine = make_engine(database_url)
    migrate(engine)
    yield Database(engine, ChangeHub())
    engine.dispose()


def order(number: str, **extra: Any) -> OrderIntake:
    return OrderIntake.model_validate({"number": number, "items": [{"name": "Soup", "station": "grill"}], **extra})


def request(body: OrderIntake, key: str | None = None, restaurant: str = "r1") -> OrderRequest:
    return OrderRequest(restaurant, key or str(uuid.uuid4()), body, request_fingerprint(PATH, body))


async def in_one_group(db: Database, writes: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run `writes` queued behind a held writer, so they form one group; their outcomes (or exceptions)."""
    release, holding = threading.Event(), threading.Event()

    def hold(_w: Writer) -> None:
        holding.set()
        assert release.wait(TIMEOUT_S), "the test never released the writer"

    held = asyncio.create_task(db.awrite(hold))
    assert await asyncio.to_thread(holding.wait, TIMEOUT_S)
    tasks = [asyncio.create_task(w()) for w in writes]
    await asyncio.sleep(0)  # one turn of the loop: each task runs up to its first await, which queues it
    assert db.queue_depth() == len(writes), "all the writes wait behind the held one"
    release.set()
    await asyncio.wait_for(held, TIMEOUT_S)
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S)


def count(db: Database, table: sa.Table) -> int:
    return db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def intake(db: Database, req: OrderRequest) -> Callable[[], Awaitable[Any]]:
    return lambda: db.awrite_many(intake_orders, req)


async def test_a_group_shares_one_commit_and_every_order_is_stored(db: Database) -> None:
    reqs = [request(order(f"A{n}")) for n in range(20)]
    groups = db.groups_committed
    outcomes = await in_one_group(db, [intake(db, r) for r in reqs])
    assert db.groups_committed == groups + 1, "twenty orders, one transaction"
    assert all(isinstance(o, StoredResponse) and o.status_code == 201 and not o.replayed for o in outcomes)
    assert count(db, orders) == 20 and count(db, order_items) == 20 and count(db, idempotency_keys) == 20
    seqs = [o.body["change_seq"] for o in outcomes]
    assert seqs == sorted(seqs), "change_seq in the order the requests were queued"


async def test_a_request_that_fails_in_a_group_fails_alone(db: Database) -> None:
    taken = uuid.uuid4()
    first = await db.awrite_many(intake_orders, request(order("T1", id=str(taken))))
    reused = request(order("R1"))
    await db.awrite_many(intake_orders, reused)
    reqs = [
        request(order("G1")),
        request(order("G2", id=str(taken))),  # that order id exists: 409
        request(order("G3")),
        OrderRequest("r1", reused.key, order("R1-other"), request_fingerprint(PATH, order("R1-other"))),  # 409
        request(order("G4")),
    ]
    outcomes = await in_one_group(db, [intake(db, r) for r in reqs])
    assert isinstance(outcomes[1], ApiError) and outcomes[1].status == 409 and outcomes[1].body["code"] == "23505"
    assert isinstance(outcomes[3], ApiError) and outcomes[3].status == 409 and outcomes[3].body["code"] == "KDS409"
    for i in (0, 2, 4):
        assert isinstance(outcomes[i], StoredResponse) and outcomes[i].status_code == 201
    numbers = set(db.read(lambda c: c.execute(sa.select(orders.c.number)).scalars().all()))
    assert numbers == {"T1", "R1", "G1", "G3", "G4"}
    assert first.body["id"] == str(taken)


async def test_a_constraint_that_breaks_the_batch_fails_only_its_request(db: Database) -> None:
    # An item id that is already taken only shows at the INSERT: the batch's executemany fails as a whole,
    # and each request is written again alone.
    item_id = uuid.uuid4()
    await db.awrite_many(intake_orders, request(order("T1", items=[{"id": str(item_id), "name": "Soup"}])))
    clash = order("C1", items=[{"id": str(item_id), "name": "Pie"}])
    reqs = [request(order("G1")), request(clash), request(order("G2"))]
    outcomes = await in_one_group(db, [intake(db, r) for r in reqs])
    assert isinstance(outcomes[1], IntegrityError)
    assert [o.status_code for o in (outcomes[0], outcomes[2])] == [201, 201]
    numbers = set(db.read(lambda c: c.execute(sa.select(orders.c.number)).scalars().all()))
    assert numbers == {"T1", "G1", "G2"}
    assert count(db, idempotency_keys) == 3, "the failed request's key was not kept: a retry is a new try"


async def test_next_to_other_writes_a_broken_batch_is_retried_request_by_request_in_the_same_commit(
    db: Database,
) -> None:
    item_id = uuid.uuid4()
    await db.awrite_many(intake_orders, request(order("T1", items=[{"id": str(item_id), "name": "Soup"}])))
    clash = order("C1", items=[{"id": str(item_id), "name": "Pie"}])
    writes = [
        lambda: db.awrite(lambda w: w.insert(menu_availability, _menu_row("Soup")), group=True),
        intake(db, request(order("G1"))),
        intake(db, request(clash)),
        intake(db, request(order("G2"))),
    ]
    groups = db.groups_committed
    outcomes = await in_one_group(db, writes)
    assert db.groups_committed == groups + 1, "one transaction: the batch went again in savepoints"
    assert isinstance(outcomes[2], IntegrityError)
    assert [o.status_code for o in (outcomes[1], outcomes[3])] == [201, 201]
    numbers = set(db.read(lambda c: c.execute(sa.select(orders.c.number)).scalars().all()))
    assert numbers == {"T1", "G1", "G2"} and count(db, menu_availability) == 1


async def test_the_same_key_twice_in_a_group_is_stored_once_and_both_get_the_same_answer(db: Database) -> None:
    body = order("K1")
    twice = request(body)
    same_key_other_body = OrderRequest("r1", twice.key, order("K2"), request_fingerprint(PATH, order("K2")))
    outcomes = await in_one_group(db, [intake(db, twice), intake(db, twice), intake(db, same_key_other_body)])
    first, second, third = outcomes
    assert isinstance(first, StoredResponse) and isinstance(second, StoredResponse)
    assert (first.status_code, first.replayed) == (201, False)
    assert (second.status_code, second.replayed) == (201, True)
    assert second.body == first.body
    assert isinstance(third, ApiError) and third.status == 409
    assert count(db, orders) == 1 and count(db, idempotency_keys) == 1
    # And again later, from the database: the same answer.
    later = await db.awrite_many(intake_orders, twice)
    assert later.replayed and later.body == first.body


def _menu_row(name: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "restaurant_id": "r1",
        "item_name": name,
        "available": False,
        "reason": None,
        "updated_by": "t",
    }


async def test_a_grouped_write_that_raises_after_writing_is_rolled_back_alone(db: Database) -> None:
    def half_then_fail(w: Writer) -> None:
        w.insert(menu_availability, _menu_row("Stew"))
        raise RuntimeError("boom")

    writes = [
        lambda: db.awrite(lambda w: w.insert(menu_availability, _menu_row("Soup")), group=True),
        lambda: db.awrite(half_then_fail, group=True),
        intake(db, request(order("G1"))),
        lambda: db.awrite(lambda w: w.insert(menu_availability, _menu_row("Pie")), group=True),
    ]
    outcomes = await in_one_group(db, writes)
    assert isinstance(outcomes[1], RuntimeError)
    names = db.read(lambda c: c.execute(sa.select(menu_availability.c.item_name)).scalars().all())
    assert sorted(names) == ["Pie", "Soup"]
    assert count(db, orders) == 1
    # The failed write's change_seq was taken by the next write: the committed sequence has no gap.
    soup, pie, g1 = outcomes[0]["change_seq"], outcomes[3]["change_seq"], outcomes[2].body["change_seq"]
    assert (g1, pie) == (soup + 1, soup + 3), "Soup, then G1 and its item, then Pie"


async def test_a_database_error_in_a_group_writes_each_request_alone(db: Database) -> None:
    def broken(_w: Writer) -> None:
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    reqs = [request(order(f"G{n}")) for n in range(3)]
    writes = [intake(db, reqs[0]), lambda: db.awrite(broken, group=True), intake(db, reqs[1]), intake(db, reqs[2])]
    outcomes = await in_one_group(db, writes)
    assert isinstance(outcomes[1], OperationalError)
    assert [o.status_code for o in (outcomes[0], outcomes[2], outcomes[3])] == [201, 201, 201]
    assert count(db, orders) == 3 and count(db, idempotency_keys) == 3


async def test_published_changes_follow_commit_order(db: Database) -> None:
    published: list[int] = []
    db.hub.subscribe(lambda batch: published.extend(c.seq for c in batch if c.seq is not None))
    await in_one_group(db, [intake(db, request(order(f"A{n}"))) for n in range(10)])
    await in_one_group(db, [intake(db, request(order(f"B{n}"))) for n in range(10)])
    assert published == sorted(published) and len(published) == 40, "each order and its item, once each"
