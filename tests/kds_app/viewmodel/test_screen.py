"""The screen redraws only the orders a change touched, and what it shows is always what a full reload shows.

No server: the engine is not started, its store is written directly (as the read path would) and taps go
through `Screen`, whose redraw after a tap is the one a cook sees in the same frame.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_client.models import DeviceRole, ItemStatus, OrderStatus, OrderWithItems, Priority
from kds_app.viewmodel.engine_bridge import EngineBridge
from kds_app.viewmodel.screen import Screen
from kds_app.viewmodel.ticket_model import TicketModel
from sync.engine.engine import SyncEngine
from sync.store import read_rows
from tests.kds_app.conftest import engine_config
from tests.kds_app.factories import order

STATIONS = ("grill", "fry")


@pytest.fixture(params=[DeviceRole.kds, DeviceRole.expo], ids=["station", "expo"])
def role(request: pytest.FixtureRequest) -> DeviceRole:
    return request.param


@pytest.fixture
def engine(tmp_path: Path, role: DeviceRole) -> Iterator[SyncEngine]:
    # Never started: nothing touches the network, the closed port is never dialled.
    stations = () if role is DeviceRole.expo else STATIONS
    made = SyncEngine(engine_config("http://127.0.0.1:9", tmp_path, "r1-screen-1", role, stations))
    yield made
    made.store.close()


def save(engine: SyncEngine, *orders: OrderWithItems) -> None:
    with engine.store.transaction() as conn:
        for o in orders:
            read_rows.save_order(conn, o)


def server_update(o: OrderWithItems, rng: random.Random) -> OrderWithItems:
    """What another screen's tap or the POS might have done to `o`, as the server row arriving here."""
    items = list(o.order_items)
    k = rng.randrange(len(items))
    status = rng.choice([ItemStatus.done, ItemStatus.cooking, ItemStatus.voided])
    items[k] = items[k].model_copy(update={"status": status, "version": items[k].version + 1})
    order_status = rng.choice([OrderStatus.in_progress, OrderStatus.in_progress, OrderStatus.served,
                               OrderStatus.ready])
    # Now and then the order is rushed (or the rush taken back): its tickets move to another place on the rail.
    priority = rng.choice([Priority.rush, Priority.normal]) if rng.random() < 0.15 else o.priority
    return o.model_copy(update={"order_items": items, "status": order_status, "priority": priority,
                                "version": o.version + 1})


def test_redrawing_only_the_touched_orders_shows_what_a_full_reload_shows(
    qapp: object, engine: SyncEngine, role: DeviceRole
) -> None:
    rng = random.Random(5)
    orders = [order(f"{n}", ("Burger", "grill"), ("Fries", "fry"), age_s=900 - n) for n in range(30)]
    save(engine, *orders)
    screen = Screen(
        EngineBridge(engine),
        TicketModel(),
        expo=role is DeviceRole.expo,
        stations=() if role is DeviceRole.expo else STATIONS,
    )
    screen.refresh()
    assert len(screen.model.tickets()) == (30 if role is DeviceRole.expo else 60)
    by_id = {o.id: o for o in orders}
    for step in range(120):
        shown = screen.model.tickets()
        if shown and rng.random() < 0.6:
            # A cook's tap: the screen redraws the tapped order itself, right after the durable write.
            ticket = rng.choice(shown)
            if rng.random() < 0.5:
                screen.item(ticket.key, rng.choice(ticket.order.order_items).id)
            else:
                screen.action(ticket.key)
                screen.action(ticket.key)
        else:
            # A server change arrives: the engine reports exactly the orders whose rows it wrote, changed ones
            # and new ones (anywhere on the rail: their age is drawn at random).
            touched = rng.sample(list(by_id), k=rng.randint(0, 3))
            for oid in touched:
                by_id[oid] = server_update(by_id[oid], rng)
                save(engine, by_id[oid])
            for _ in range(rng.choice([0, 0, 1, 2])):
                arrived = order(f"{100 + step}", ("Burger", "grill"), ("Fries", "fry"), age_s=rng.uniform(0, 1200))
                by_id[arrived.id] = arrived
                touched.append(arrived.id)
                save(engine, arrived)
            screen.refresh(frozenset(touched))
        full = screen.current_tickets()
        assert [(t.key, t.order) for t in screen.model.tickets()] == [(t.key, t.order) for t in full], step
    assert engine.queue_depth.value > 0  # the taps really went through the outbox


def test_rejections_are_read_only_when_one_was_recorded_or_dismissed(
    qapp: object, engine: SyncEngine, role: DeviceRole, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every redraw used to query the outbox for rejections; now only an answer with a rejection, or a dismissal,
    makes the next redraw ask, and the banner still follows both."""
    from api_client.models import IntentKind
    from sync.engine.upload_policy import Decision, Reject

    first = order("1", ("Burger", "grill"), ("Fries", "fry"), age_s=60)
    save(engine, first)
    screen = Screen(EngineBridge(engine), TicketModel(), expo=role is DeviceRole.expo, stations=STATIONS)
    shown: list[list[object]] = []
    screen.rejections_changed.connect(shown.append)
    asked = 0
    ask = engine.rejected

    def counting() -> list[object]:
        nonlocal asked
        asked += 1
        return ask()

    monkeypatch.setattr(engine, "rejected", counting)
    screen.refresh()
    assert asked == 1  # the first redraw asks (rejections from before a restart)
    for _ in range(5):
        screen.refresh({first.id})
    assert asked == 1
    kind = IntentKind.serve if role is DeviceRole.expo else IntentKind.bump_ticket
    intent = engine.submit(kind, first.id, station=None if role is DeviceRole.expo else "grill")
    engine.uploader._record([intent], Decision(settle=[Reject(intent.id, "Order 1 was voided")]))
    screen.refresh({first.id})
    assert asked == 2 and [e.reason for e in shown[-1]] == ["Order 1 was voided"]
    screen.refresh({first.id})
    assert asked == 2
    screen.dismiss(shown[-1][0])
    assert asked == 3 and shown[-1] == []
