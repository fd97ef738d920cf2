"""Ticket listings on a real local store: the station rule, the recall drawer, and a constant query count."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api_client.models import DeviceRole, ItemStatus, OrderStatus, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from sync.engine.engine import EngineConfig, SyncEngine
from sync.engine.outbox import Outbox
from sync.engine.tickets import known_stations, open_tickets, recently_bumped
from sync.store import LocalStore
from tests.helpers.tickets import BURGER, FRIES, Clock, ids, make_order, minutes, save, shown
from tests.sync.store.support import NOW


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=clock)
    yield s
    s.close()


def bumped(
    store: LocalStore, station: str | None, since: datetime, role: DeviceRole = DeviceRole.kds
) -> list[tuple[OrderWithItems, datetime]]:
    with store.snapshot() as conn:
        return recently_bumped(conn, role, station, since)


def names(ticket: OrderWithItems) -> list[str]:
    return [i.name for i in ticket.order_items]


# ---------------------------------------------------------------- the station rule


def test_ticket_leaves_the_grill_once_its_items_are_done_but_stays_for_the_fryer_and_expo(store: LocalStore) -> None:
    fresh = make_order([BURGER, FRIES], number="A1")
    grill_done = make_order(
        [{**BURGER, "status": "done", "updated_at": minutes(5).isoformat()}, FRIES],
        status="in_progress",
        number="A2",
    )
    save(store, fresh, grill_done)

    grill = shown(store, "grill")
    assert ids(grill) == [fresh.id]
    assert names(grill[0]) == ["Burger"]
    fry = {t.id: t for t in shown(store, "fry")}
    assert set(fry) == {fresh.id, grill_done.id}
    assert names(fry[grill_done.id]) == ["Fries"]
    expo = {t.id: t for t in shown(store, None, DeviceRole.expo)}
    assert set(expo) == {fresh.id, grill_done.id}
    assert names(expo[grill_done.id]) == ["Burger", "Fries"]

    # The grill's drawer has it, bumped when its Burger was, with only the grill's items.
    ((ticket, at),) = bumped(store, "grill", since=NOW)
    assert ticket.id == grill_done.id and at == minutes(5)
    assert names(ticket) == ["Burger"]
    assert bumped(store, "fry", since=NOW) == []


def test_known_stations_are_every_station_with_an_item_in_the_store(store: LocalStore) -> None:
    with store.snapshot() as conn:
        assert known_stations(conn) == []
    save(store, make_order([BURGER, FRIES]), make_order([{"name": "Cake", "station": "pastry"}, BURGER], number="A2"))
    with store.snapshot() as conn:
        assert known_stations(conn) == ["fry", "grill", "pastry"]


def test_a_voided_change_keeps_the_ticket_until_the_cook_acknowledges_it(store: LocalStore) -> None:
    order = make_order(
        [
            {**BURGER, "status": "done"},
            {"name": "Steak", "station": "grill", "status": "voided", "changed_after_send": True},
            FRIES,
        ],
        status="in_progress",
    )
    save(store, order)
    (ticket,) = shown(store, "grill")
    # The void is shown (so the cook sees it), and only the grill's items.
    assert [(i.name, i.status) for i in ticket.order_items] == [
        ("Burger", ItemStatus.done),
        ("Steak", ItemStatus.voided),
    ]
    assert bumped(store, "grill", since=NOW) == []

    Outbox(store, DeviceRole.kds).submit("ack_change", order.id, station="grill")
    assert shown(store, "grill") == []
    assert ids([t for t, _ in bumped(store, "grill", since=NOW)]) == [order.id]


def test_held_items_keep_the_ticket_on_the_station(store: LocalStore) -> None:
    order = make_order(
        [{**BURGER, "status": "done"}, {"name": "Steak", "station": "grill", "held": True}, FRIES],
        status="in_progress",
    )
    save(store, order)
    (ticket,) = shown(store, "grill")
    assert names(ticket) == ["Burger", "Steak"]
    # Bumping the ticket leaves the held Steak open, so the ticket stays until it is fired and cooked.
    Outbox(store, DeviceRole.kds).submit("bump_ticket", order.id, station="grill")
    assert ids(shown(store, "grill")) == [order.id]


def test_open_tickets_are_oldest_first(store: LocalStore) -> None:
    made = [make_order([BURGER], number=f"A{n}", created_at=minutes(m).isoformat()) for n, m in enumerate([3, 1, 2])]
    save(store, *made)
    assert [t.number for t in shown(store, "grill")] == ["A1", "A2", "A0"]
    assert [t.number for t in shown(store, None, DeviceRole.expo)] == ["A1", "A2", "A0"]


def test_among_lists_only_the_given_orders_under_the_same_rules(store: LocalStore, clock: Clock) -> None:
    grill_only = make_order([BURGER], number="A1")
    both = make_order([BURGER, FRIES], number="A2")
    done = make_order([FRIES], number="A3")
    save(store, grill_only, both, done)
    Outbox(store, DeviceRole.kds).submit("bump_ticket", grill_only.id, station="grill")
    with store.snapshot() as conn:
        # A pending bump hides A1 here as in the full listing; A3 has no grill items; A2 is the one left.
        assert ids(open_tickets(conn, DeviceRole.kds, "grill", {grill_only.id, both.id, done.id})) == [both.id]
        assert ids(open_tickets(conn, DeviceRole.kds, "fry", {done.id})) == [done.id]
        assert open_tickets(conn, DeviceRole.kds, "fry", set()) == []
        assert ids(open_tickets(conn, DeviceRole.expo, None, {both.id, uuid.uuid4()})) == [both.id]


# ---------------------------------------------------------------- pending taps


def test_a_pending_bump_hides_the_ticket_at_once_and_a_pending_recall_brings_it_back(
    store: LocalStore, clock: Clock
) -> None:
    order = make_order([BURGER, FRIES])
    save(store, order)
    outbox = Outbox(store, DeviceRole.kds)

    clock.set(minutes(10))
    outbox.submit("bump_ticket", order.id, station="grill")
    assert shown(store, "grill") == []
    assert ids(shown(store, "fry")) == [order.id]
    # The server row still says new (updated at NOW); the pending tap's time is the bump time.
    ((ticket, at),) = bumped(store, "grill", since=minutes(9))
    assert ticket.id == order.id and at == minutes(10)
    assert [(i.name, i.status) for i in ticket.order_items] == [("Burger", ItemStatus.done)]

    clock.set(minutes(11))
    outbox.submit("recall", order.id, station="grill")
    (back,) = shown(store, "grill")
    assert back.id == order.id and back.order_items[0].status is ItemStatus.cooking
    assert bumped(store, "grill", since=NOW) == []


@pytest.mark.parametrize("strike", ["server", "pending"])
def test_a_pending_recall_keeps_the_struck_items_struck(store: LocalStore, clock: Clock, strike: str) -> None:
    """The cook struck the steak, bumped, and recalls: the screen shows the steak still struck at once, whether
    the server has the strike (with its done time) or it is still queued with the bump and the recall."""
    steak = {"name": "Steak", "station": "grill"}
    if strike == "server":
        steak |= {"status": "done", "done_at": minutes(5).isoformat()}
    order = make_order([BURGER, steak, FRIES], status="in_progress" if strike == "server" else "new")
    save(store, order)
    outbox = Outbox(store, DeviceRole.kds)
    clock.set(minutes(8))
    if strike == "pending":
        outbox.submit("bump_item", order.id, item_id=order.order_items[1].id)
    clock.set(minutes(9))
    outbox.submit("bump_ticket", order.id, station="grill")
    assert shown(store, "grill") == []
    clock.set(minutes(10))
    outbox.submit("recall", order.id, station="grill")
    (back,) = shown(store, "grill")
    assert {i.name: i.status for i in back.order_items} == {"Burger": ItemStatus.cooking, "Steak": ItemStatus.done}


def test_a_later_server_bump_wins_over_an_older_pending_tap(store: LocalStore, clock: Clock) -> None:
    order = make_order(
        [{**BURGER, "status": "done", "updated_at": minutes(20).isoformat()}, FRIES], status="in_progress"
    )
    save(store, order)
    clock.set(minutes(5))
    Outbox(store, DeviceRole.kds).submit("rush", order.id)
    ((_, at),) = bumped(store, "grill", since=NOW)
    assert at == minutes(20)


# ---------------------------------------------------------------- expo


def test_expo_sees_whole_orders_and_served_ones_in_the_drawer(store: LocalStore, clock: Clock) -> None:
    done = {"status": "done"}
    ready = make_order([{**BURGER, **done}, {**FRIES, **done}], status="ready", number="R1")
    served = make_order(
        [{**BURGER, **done}, {**FRIES, **done}], status="served", number="S1", updated_at=minutes(3).isoformat()
    )
    save(store, ready, served)
    (ticket,) = shown(store, None, DeviceRole.expo)
    assert ticket.id == ready.id and names(ticket) == ["Burger", "Fries"]
    assert [(t.id, at) for t, at in bumped(store, None, since=NOW, role=DeviceRole.expo)] == [(served.id, minutes(3))]

    outbox = Outbox(store, DeviceRole.expo)
    clock.set(minutes(7))
    outbox.submit("serve", ready.id)
    assert shown(store, None, DeviceRole.expo) == []
    drawer = bumped(store, None, since=NOW, role=DeviceRole.expo)
    # Most recently bumped first, whole orders.
    assert [(t.id, at) for t, at in drawer] == [(ready.id, minutes(7)), (served.id, minutes(3))]
    assert names(drawer[0][0]) == ["Burger", "Fries"]

    # A pending recall of an order the server already has as served brings it back to the rail.
    clock.set(minutes(8))
    outbox.submit("recall", served.id)
    assert ids(shown(store, None, DeviceRole.expo)) == [served.id]


def test_the_since_cutoff_leaves_out_older_bumps(store: LocalStore) -> None:
    done = {"status": "done"}
    old = make_order([{**BURGER, **done, "updated_at": minutes(1).isoformat()}], status="served", number="O")
    new = make_order([{**BURGER, **done, "updated_at": minutes(9).isoformat()}], status="served", number="N")
    exact = make_order([{**BURGER, **done, "updated_at": minutes(5).isoformat()}], status="served", number="E")
    save(store, old, new, exact)
    assert [t.number for t, _ in bumped(store, "grill", since=minutes(5))] == ["N", "E"]
    assert [t.number for t, _ in bumped(store, "grill", since=NOW)] == ["N", "E", "O"]
    assert bumped(store, "grill", since=minutes(10)) == []


def test_cancelled_orders_are_not_in_the_drawer(store: LocalStore) -> None:
    order = make_order([{**BURGER, "status": "done"}, FRIES], status="cancelled")
    save(store, order)
    assert shown(store, "grill") == [] and shown(store, "fry") == []
    assert bumped(store, "grill", since=NOW) == []
    # A pending tap makes it a candidate whatever the server's status: the displayed status still rules it out.
    Outbox(store, DeviceRole.kds).submit("ack_change", order.id, station="grill")
    assert bumped(store, "grill", since=NOW) == []


# ---------------------------------------------------------------- cost


def count_selects(store: LocalStore, run: Any) -> int:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    with store.snapshot() as conn:
        sa.event.listen(store.engine, "before_cursor_execute", note)
        try:
            run(conn)
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", note)
    return len(seen)


def fill(store: LocalStore, clock: Clock, count: int) -> None:
    """`count` orders in every state a listing meets; half the new ones have a pending grill bump."""
    made = []
    for n in range(count):
        kind = n % 3
        if kind == 0:
            made.append(make_order([BURGER, FRIES], number=f"N{n}"))
        elif kind == 1:
            made.append(make_order([{**BURGER, "status": "done"}, FRIES], status="in_progress", number=f"P{n}"))
        else:
            done = {"status": "done"}
            made.append(make_order([{**BURGER, **done}, {**FRIES, **done}], status="served", number=f"S{n}"))
    save(store, *made)
    outbox = Outbox(store, DeviceRole.kds)
    for n, order in enumerate(made):
        if n % 6 == 0:
            clock.set(minutes(n))
            outbox.submit("bump_ticket", order.id, station="grill")


@pytest.mark.parametrize("station", ["grill", None])
def test_query_count_does_not_grow_with_the_number_of_orders(tmp_path: Path, clock: Clock, station: str | None) -> None:
    counts = {}
    for size in (1, 300):
        with LocalStore(tmp_path / f"{size}.db", device_id="r1-kds-1", clock=clock) as store:
            fill(store, clock, size)
            counts[size] = (
                count_selects(store, lambda c: open_tickets(c, DeviceRole.kds, station)),
                count_selects(store, lambda c: recently_bumped(c, DeviceRole.kds, station, NOW)),
            )
            if size == 300:
                # And the many-order listing is complete, not cut off by any statement limit.
                listed = shown(store, station)
                # Grill: the new orders without a pending bump. Expo: everything not served.
                expected = 50 if station == "grill" else 200
                assert len(listed) == expected
    assert counts[1] == counts[300]
    assert all(n <= 3 for n in counts[300])


# ---------------------------------------------------------------- the engine's method


async def test_engine_recently_bumped_looks_back_within_s_from_the_store_clock(tmp_path: Path) -> None:
    config = EngineConfig(
        url="http://127.0.0.1:9",
        anon_key="anon",
        restaurant_id="r1",
        device_id="r1-kds-grill-1",
        role=DeviceRole.kds,
        token_provider=StaticTokenProvider(None),
        data_path=tmp_path / "engine.db",
        stations=("grill",),
    )
    engine = SyncEngine(config)
    try:
        engine.store.clock = lambda: minutes(30).timestamp()
        done = {"status": "done"}
        recent = make_order([{**BURGER, **done, "updated_at": minutes(25).isoformat()}], status="ready", number="R")
        old = make_order([{**BURGER, **done, "updated_at": minutes(10).isoformat()}], status="ready", number="O")
        save(engine.store, recent, old)
        assert [(t.number, at) for t, at in engine.recently_bumped("grill", within_s=600)] == [("R", minutes(25))]
        assert [t.number for t, _ in engine.recently_bumped("grill")] == ["R", "O"]
        assert engine.open_tickets("grill") == []
        # Expo's drawer holds served orders only; these are ready.
        assert engine.recently_bumped(None) == []
        assert {t.status for t in engine.open_tickets(None)} == {OrderStatus.ready}
    finally:
        await engine.api.aclose()
        engine.store.close()
