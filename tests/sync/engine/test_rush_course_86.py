"""Rush, coursing and 86 in the engine: rushed tickets sort first, held-only station tickets are shown but are
not work, and the 86 list (server rows + pending intents) with its own change notification, live and offline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api_client.models import DeviceRole, IntentKind, MenuAvailabilityPublic
from sync.engine.engine import SyncEngine
from sync.engine.menu import eighty_sixed
from sync.engine.outbox import Outbox
from sync.engine.tickets import station_has_work, station_on_hold
from sync.realtime.connection import ConnectionState
from sync.store import LocalStore, read_rows
from tests.helpers.engine_live import TIMEOUT_S, running
from tests.helpers.tickets import BURGER, Clock, ids, make_order, minutes, save, shown
from tests.live_server import LiveServer
from tests.sync.store.support import NOW


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=Clock(NOW))
    yield s
    s.close()


# ---------------------------------------------------------------- rush


def test_rushed_tickets_sort_first_then_oldest_first(store: LocalStore) -> None:
    old, mid, new = (make_order([BURGER], number=f"A{n}", created_at=minutes(n).isoformat()) for n in (1, 2, 3))
    rushed_new = make_order([BURGER], number="R9", created_at=minutes(9).isoformat(), priority="rush")
    rushed_old = make_order([BURGER], number="R5", created_at=minutes(5).isoformat(), priority="rush")
    save(store, old, mid, new, rushed_new, rushed_old)
    expected = ["R5", "R9", "A1", "A2", "A3"]
    assert [t.number for t in shown(store, "grill")] == expected
    assert [t.number for t in shown(store, None, DeviceRole.expo)] == expected


def test_a_pending_rush_and_unrush_resort_at_once(store: LocalStore) -> None:
    old, new = (make_order([BURGER], number=f"A{n}", created_at=minutes(n).isoformat()) for n in (1, 2))
    save(store, old, new)
    outbox = Outbox(store, DeviceRole.expo)
    outbox.submit(IntentKind.rush, new.id)  # offline or not: the screen re-sorts before anything is sent
    assert ids(shown(store, "grill")) == [new.id, old.id]
    outbox.submit(IntentKind.rush, new.id, args={"priority": "normal"})
    assert ids(shown(store, "grill")) == [old.id, new.id]


# ---------------------------------------------------------------- coursing


def test_a_station_with_only_held_items_shows_the_ticket_but_has_no_work(store: LocalStore) -> None:
    held_only = make_order(
        [{"name": "Steak", "station": "grill", "course": 2, "held": True}, {"name": "Soup", "station": "saute"}],
        number="C1",
    )
    save(store, held_only)
    (ticket,) = shown(store, "grill")
    assert [i.name for i in ticket.order_items] == ["Steak"]
    assert station_on_hold(ticket.order_items) and not station_has_work(ticket.order_items)
    # Firing the course (expo's FIRE, or the auto-fire of the previous course) makes it work.
    Outbox(store, DeviceRole.expo).submit(IntentKind.fire, held_only.id, args={"course": 2})
    (ticket,) = shown(store, "grill")
    assert station_has_work(ticket.order_items) and not station_on_hold(ticket.order_items)


def test_bumping_the_last_of_a_course_fires_the_next_on_screen_at_once(store: LocalStore) -> None:
    order = make_order(
        [{"name": "Soup", "station": "saute"}, {"name": "Steak", "station": "grill", "course": 2, "held": True}],
        number="C2",
    )
    save(store, order)
    (grill,) = shown(store, "grill")
    assert station_on_hold(grill.order_items)
    Outbox(store, DeviceRole.kds).submit(IntentKind.bump_ticket, order.id, station="saute")
    (grill,) = shown(store, "grill")
    assert [(i.name, i.held) for i in grill.order_items] == [("Steak", False)]
    assert station_has_work(grill.order_items)


# ---------------------------------------------------------------- 86, in the store


def menu_row(name: str, available: bool, seq: int = 1) -> MenuAvailabilityPublic:
    return MenuAvailabilityPublic(
        id=uuid.uuid4(), restaurant_id="r1", item_name=name, available=available, reason=None,
        updated_by="r1-kds-1", updated_at=datetime.now(UTC), version=1, change_seq=seq,
    )


def listed(s: LocalStore) -> tuple[str, ...]:
    with s.snapshot() as conn:
        return eighty_sixed(conn).names


def test_the_86_list_is_the_servers_rows_with_pending_intents_on_top(store: LocalStore) -> None:
    with store.transaction() as conn:
        read_rows.save_menu_item(conn, menu_row("Burrata", False, 1))
        read_rows.save_menu_item(conn, menu_row("Oysters", True, 2))  # 86'd once, back on since
    assert listed(store) == ("Burrata",)
    outbox = Outbox(store, DeviceRole.kds)
    outbox.submit(IntentKind.eighty_six, None, args={"item_name": " calamari "})
    outbox.submit(IntentKind.eighty_six, None, args={"item_name": "burrata", "available": True})
    assert listed(store) == ("calamari",)
    with store.snapshot() as conn:
        assert eighty_sixed(conn).pending


# ---------------------------------------------------------------- 86, live between two screens



@pytest.mark.slow
async def test_an_86_shows_at_once_reaches_the_other_screen_and_un_86_clears_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with (
        running(live_server.url, tmp_path, "r1-kds-grill-1") as grill,
        running(live_server.url, tmp_path, "r1-kds-grill-2") as other,
    ):
        async with asyncio.timeout(TIMEOUT_S):
            await grill.caught_up.wait_for(True)
            await other.caught_up.wait_for(True)
        seen: list[tuple[str, ...]] = []
        other.eighty_sixed.subscribe(seen.append)
        orders_changed: list[frozenset[uuid.UUID]] = []
        other.on_changes(orders_changed.append)

        grill.eighty_six("Calamari")
        assert grill.eighty_sixed.value == ("Calamari",) == grill.unavailable_items()  # before any network
        async with asyncio.timeout(TIMEOUT_S):
            await other.eighty_sixed.wait_for(("Calamari",))
            await grill.queue_depth.wait_for(0)
        assert grill.rejected() == [] and grill.eighty_sixed.value == ("Calamari",)
        assert orders_changed == []  # the order-id contract is untouched: the menu is not an order

        other.eighty_six("calamari", available=True)
        assert other.eighty_sixed.value == ()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.eighty_sixed.wait_for(())
        assert seen == [("Calamari",), ()]


@pytest.mark.slow
async def test_an_86_made_offline_shows_at_once_and_syncs_after_the_server_returns(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with running(live_server.url, tmp_path, "r1-kds-grill-1") as grill:
        async with asyncio.timeout(TIMEOUT_S):
            await grill.caught_up.wait_for(True)
        live_server.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE)
        grill.eighty_six("Burrata")
        assert grill.eighty_sixed.value == ("Burrata",) and grill.queue_depth.value == 1
        back = live_server.restarted()
        try:
            back.wait_ready()
            async with (
                running(back.url, tmp_path, "r1-kds-grill-2") as other,
                asyncio.timeout(TIMEOUT_S),
            ):
                await grill.queue_depth.wait_for(0)
                await other.eighty_sixed.wait_for(("Burrata",))
            assert grill.eighty_sixed.value == ("Burrata",) and grill.rejected() == []
        finally:
            back.stop()


def test_eighty_six_refuses_a_blank_name(tmp_path: Path) -> None:
    from tests.helpers.engine_live import config

    engine = SyncEngine(config("http://127.0.0.1:9", tmp_path, "r1-kds-grill-1"))
    try:
        with pytest.raises(ValueError, match="item name"):
            engine.eighty_six("   ")
        assert engine.unavailable_items() == ()
    finally:
        engine.store.close()
