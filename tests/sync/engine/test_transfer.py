"""Transfer in the engine (issue 19, item 2): a ticket or one item moved to another station leaves this screen's
rail at once (the order machine's overlay, before any network), reaches the other station's screen live, can be
moved back, and made offline it is applied once after the server returns. A station the server does not know is
refused and the ticket comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from api_client.models import DeviceRole, Intent, IntentKind, IntentStatus
from sync.engine.engine import SyncEngine
from sync.engine.outbox import Outbox
from sync.realtime.connection import ConnectionState
from sync.store import LocalStore
from tests.conftest import auth_headers, token_for
from tests.helpers.engine_live import TIMEOUT_S, caught_up, pos_orders, until
from tests.helpers.tickets import BURGER, FRIES, Clock, make_order, save, shown
from tests.live_server import LiveServer
from tests.sync.store.support import NOW


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=Clock(NOW))
    yield s
    s.close()


def names_at(store: LocalStore, station: str) -> list[str]:
    return [i.name for t in shown(store, station) for i in t.order_items]


def test_a_pending_transfer_moves_the_ticket_between_rails_at_once(store: LocalStore) -> None:
    order = make_order([BURGER, {"name": "Steak", "station": "grill"}, FRIES], number="T1")
    save(store, order)
    outbox = Outbox(store, DeviceRole.kds)
    outbox.submit(IntentKind.transfer, order.id, station="grill", args={"to": "fry"})  # nothing sent yet
    assert shown(store, "grill") == []
    assert sorted(names_at(store, "fry")) == ["Burger", "Fries", "Steak"]
    assert {i.name: i.moved_from for t in shown(store, "fry") for i in t.order_items} == {
        "Burger": "grill",
        "Steak": "grill",
        "Fries": None,
    }
    # Moved back from the fry screen: the recall of a transfer is the same intent the other way.
    burger = next(i for i in order.order_items if i.name == "Burger")
    outbox.submit(IntentKind.transfer, order.id, item_id=burger.id, station="fry", args={"to": "grill"})
    assert names_at(store, "grill") == ["Burger"]
    assert sorted(names_at(store, "fry")) == ["Fries", "Steak"]


# ---------------------------------------------------------------- live, through a companion


def at(engine: SyncEngine, order_id: UUID, station: str) -> list[str]:
    """The names of the order's items on `station`'s rail as `engine` shows it (empty: not there)."""
    return sorted(i.name for t in engine.open_tickets(station) if t.id == order_id for i in t.order_items)


def marks(engine: SyncEngine, order_id: UUID, station: str) -> dict[str, str | None]:
    """name -> the "moved from" mark of the order's items on `station`'s rail as `engine` shows it."""
    return {i.name: i.moved_from for t in engine.open_tickets(station) if t.id == order_id for i in t.order_items}


async def server_items(url: str, order_id: UUID) -> dict[str, tuple[str, int]]:
    """name -> (station, version) of the order's items, as the server has them."""
    headers = auth_headers(token_for("admin"))
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        r = await http.get("/rest/v1/order_items", params={"order_id": f"eq.{order_id}", "select": "*"})
    assert r.status_code == 200, r.text
    return {row["name"]: (row["station"], row["version"]) for row in r.json()}


@pytest.mark.slow
async def test_a_transfer_shows_on_both_screens_and_back(live_server: LiveServer, tmp_path: Path) -> None:
    (order_id,) = await pos_orders(live_server.url, ["T2"])
    async with (
        caught_up(live_server.url, tmp_path, "r1-kds-grill-1", "grill") as grill,
        caught_up(live_server.url, tmp_path, "r1-kds-fry-1", "fry") as fry,
    ):
        await until(grill, lambda: at(grill, order_id, "grill") == ["Burger"])
        await until(fry, lambda: at(fry, order_id, "fry") == ["Fries"])

        grill.submit(IntentKind.transfer, order_id, station="grill", args={"to": "fry"})
        assert at(grill, order_id, "grill") == []  # gone from the grill before any network
        await until(fry, lambda: at(fry, order_id, "fry") == ["Burger", "Fries"])
        # The fry screen never applied the move itself: the mark is the server's (the burger came from the grill).
        assert marks(fry, order_id, "fry") == {"Burger": "grill", "Fries": None}
        async with asyncio.timeout(TIMEOUT_S):
            await grill.queue_depth.wait_for(0)
        assert grill.rejected() == [] and at(grill, order_id, "grill") == []

        # The fry cook sends the burger back (recall): on the grill's rail again, off the fry's at once.
        (ticket,) = [t for t in fry.open_tickets("fry") if t.id == order_id]
        burger = next(i for i in ticket.order_items if i.name == "Burger")
        fry.submit(IntentKind.transfer, order_id, item_id=burger.id, station="fry", args={"to": "grill"})
        assert at(fry, order_id, "fry") == ["Fries"]
        await until(grill, lambda: at(grill, order_id, "grill") == ["Burger"])
        assert marks(grill, order_id, "grill") == {"Burger": None}  # back where it was sent: no mark
        async with asyncio.timeout(TIMEOUT_S):
            await fry.queue_depth.wait_for(0)
        assert fry.rejected() == []
    assert await server_items(live_server.url, order_id) == {"Burger": ("grill", 3), "Fries": ("fry", 1)}


@pytest.mark.slow
async def test_a_transfer_to_a_station_the_server_does_not_know_is_refused_and_the_ticket_comes_back(
    live_server: LiveServer, tmp_path: Path
) -> None:
    (order_id,) = await pos_orders(live_server.url, ["T3"])
    async with caught_up(live_server.url, tmp_path, "r1-kds-grill-1", "grill") as grill:
        await until(grill, lambda: at(grill, order_id, "grill") == ["Burger"])
        intent = grill.submit(IntentKind.transfer, order_id, station="grill", args={"to": "moon"})
        assert at(grill, order_id, "grill") == []  # optimistic: the screen cannot know the kitchen's stations
        await until(grill, lambda: bool(grill.rejected()))
        (refused,) = grill.rejected()
        assert refused.intent.id == intent.id and refused.reason == "There is no station moon in this kitchen"
        assert at(grill, order_id, "grill") == ["Burger"]
    assert await server_items(live_server.url, order_id) == {"Burger": ("grill", 1), "Fries": ("fry", 1)}


@pytest.mark.slow
async def test_a_transfer_made_offline_moves_at_once_and_is_applied_once_after_the_server_returns(
    live_server: LiveServer, tmp_path: Path
) -> None:
    (order_id,) = await pos_orders(live_server.url, ["T4"])
    async with caught_up(live_server.url, tmp_path, "r1-kds-grill-1", "grill") as grill:
        await until(grill, lambda: at(grill, order_id, "grill") == ["Burger"])
        live_server.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE)
        intent = grill.submit(IntentKind.transfer, order_id, station="grill", args={"to": "fry"})
        assert at(grill, order_id, "grill") == [] and at(grill, order_id, "fry") == ["Burger", "Fries"]
        assert grill.queue_depth.value == 1
        back = live_server.restarted()
        try:
            back.wait_ready()
            async with caught_up(back.url, tmp_path, "r1-kds-fry-1", "fry") as fry:
                async with asyncio.timeout(TIMEOUT_S):
                    await grill.queue_depth.wait_for(0)
                await until(fry, lambda: at(fry, order_id, "fry") == ["Burger", "Fries"])
            assert grill.rejected() == [] and at(grill, order_id, "grill") == []
            # Once: the burger's row went up one version (a second delivery would be a ledger duplicate).
            assert await server_items(back.url, order_id) == {"Burger": ("fry", 2), "Fries": ("fry", 1)}
            assert (await resend(back.url, intent))["status"] == IntentStatus.duplicate.value
        finally:
            back.stop()


async def resend(url: str, intent: Intent) -> dict[str, object]:
    """The same intent once more, as a screen that never heard the answer would send it."""
    headers = auth_headers(token_for("kds", device=intent.device_id, stations=["grill"]))
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        r = await http.post("/rest/v1/rpc/apply_intents", json={"intents": [intent.model_dump(mode="json")]})
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()[0]
    return result
