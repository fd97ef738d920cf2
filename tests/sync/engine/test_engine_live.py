"""The whole engine against `kds-backend serve` (SQLite and PostgreSQL): POS orders reach `open_tickets`,
missed realtime events are repaired by the catch-up, and two screens converge after conflicting taps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from api_client.models import ItemStatus
from sync.engine.engine import SyncEngine
from sync.realtime.connection import ConnectionState
from tests.conftest import JWT_SECRET
from tests.helpers.engine_live import TIMEOUT_S, pos_orders, running, shown, until
from tests.kds_backend.realtime.support import start_order
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


async def test_pos_orders_appear_on_the_screen(live_server: LiveServer, tmp_path: Path) -> None:
    async with running(live_server.url, tmp_path, "r1-kds-grill-1") as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        assert engine.connection_state.value is ConnectionState.LIVE
        made = await pos_orders(live_server.url, ["A1", "A2", "A3"])
        await until(engine, lambda: {o.id for o in engine.open_tickets("grill")} >= set(made))
        tickets = {o.id: o for o in engine.open_tickets("grill")}
        # The grill screen shows only its own items (the Fries go to the fryer).
        assert all([i.name for i in tickets[m].order_items] == ["Burger"] for m in made)
        assert {o.id for o in engine.open_tickets(None)} >= set(made)
        assert {o.id for o in engine.open_tickets("pastry")}.isdisjoint(made)


async def test_events_missed_while_disconnected_are_repaired_by_the_catch_up(
    live_server: LiveServer, tmp_path: Path, database_url: str
) -> None:
    async with running(live_server.url, tmp_path, "r1-kds-grill-1") as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        first = await pos_orders(live_server.url, ["B1"])
        await until(engine, lambda: shown(engine, first[0]) is not None)
        live_server.kill()
        await asyncio.wait_for(engine.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE), TIMEOUT_S)
        # Another server process on the same database takes the orders while this screen's server is down:
        # their realtime events go to nobody this screen listens to, so only the catch-up can bring them.
        other_dir = tmp_path / "other"
        other_dir.mkdir()
        other = LiveServer(other_dir, database_url, JWT_SECRET)
        try:
            other.wait_ready()
            async with httpx.AsyncClient(base_url=other.url) as http:
                await start_order(http, "r1", str(first[0]))
            missed = await pos_orders(other.url, ["B2", "B3"])
        finally:
            other.stop()
        assert all(shown(engine, m) is None for m in missed)
        back = live_server.restarted()
        try:
            back.wait_ready()
            await until(engine, lambda: all(shown(engine, m) is not None for m in missed))
            await until(engine, lambda: (o := shown(engine, first[0])) is not None and o.status.value == "in_progress")
            await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        finally:
            back.stop()


async def test_two_screens_converge_after_conflicting_bumps(live_server: LiveServer, tmp_path: Path) -> None:
    async with (
        running(live_server.url, tmp_path, "r1-kds-grill-1") as one,
        running(live_server.url, tmp_path, "r1-kds-grill-2") as two,
    ):
        for engine in (one, two):
            await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        (order_id,) = await pos_orders(live_server.url, ["C1"])
        for engine in (one, two):
            await until(engine, lambda e=engine: shown(e, order_id) is not None)
        ticket = shown(one, order_id)
        assert ticket is not None
        burger = ticket.order_items[0].id
        # Both cooks strike the same Burger before either screen has heard of the other's tap.
        one.submit("bump_item", order_id, item_id=burger, station="grill")
        two.submit("bump_item", order_id, item_id=burger, station="grill")

        def done_on(e: SyncEngine) -> bool:
            return (
                e.queue_depth.value == 0
                and (o := shown(e, order_id)) is not None
                and o.order_items[0].status is ItemStatus.done
            )

        # Each screen is awaited on its own notifications: a condition spanning both screens could become true
        # through the other screen's change, which this one never hears about.
        for engine in (one, two):
            await until(engine, lambda e=engine: done_on(e))
        rejected = [r for e in (one, two) for r in e.rejected()]
        assert len(rejected) == 1, rejected
        assert rejected[0].reason == "Burger is already done"
        loser = one if one.rejected() else two
        assert loser.dismiss(rejected[0].intent.id) and loser.rejected() == []
        # Both show the server's row, not a local guess.
        a, b = shown(one, order_id), shown(two, order_id)
        assert a is not None and b is not None
        assert a.order_items[0].version == b.order_items[0].version
        assert a.order_items[0].change_seq == b.order_items[0].change_seq

        # A bump on one screen reaches the other: the grill's last item unbumped, then the ticket bumped.
        one.submit("unbump_item", order_id, item_id=burger, station="grill")
        await until(
            two, lambda: (o := shown(two, order_id)) is not None and o.order_items[0].status is not ItemStatus.done
        )
        one.submit("bump_ticket", order_id, station="grill")
        await until(two, lambda: (o := shown(two, order_id)) is not None and o.order_items[0].status is ItemStatus.done)
        await asyncio.wait_for(one.queue_depth.wait_for(0), TIMEOUT_S)
        assert one.rejected() == [] or len(one.rejected()) + len(two.rejected()) == 1


async def test_stop_keeps_offline_taps_and_a_restart_resumes_from_the_stored_cursor(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = "r1-kds-grill-1"
    async with running(live_server.url, tmp_path, device) as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        (order_id,) = await pos_orders(live_server.url, ["D1"])
        await until(engine, lambda: shown(engine, order_id) is not None)
        burger = engine.open_tickets("grill")[0].order_items[0].id
        live_server.kill()
        engine.submit("bump_item", order_id, item_id=burger, station="grill")
        # The tap shows at once, offline, from the overlay.
        ticket = shown(engine, order_id)
        assert ticket is not None and ticket.order_items[0].status is ItemStatus.done
        assert engine.queue_depth.value == 1
    back = live_server.restarted()
    try:
        back.wait_ready()
        async with running(back.url, tmp_path, device) as again:
            # The stored cursor means no snapshot: the queued tap is still there and drains once the server is up.
            assert again.catchup.cursor is not None
            assert shown(again, order_id) is not None
            await asyncio.wait_for(again.queue_depth.wait_for(0), TIMEOUT_S)
            await asyncio.wait_for(again.caught_up.wait_for(True), TIMEOUT_S)
            ticket = shown(again, order_id)
            assert again.rejected() == []
            assert ticket is not None and ticket.order_items[0].status is ItemStatus.done
            assert ticket.order_items[0].version > 1  # the server's row now, not the local guess
    finally:
        back.stop()
