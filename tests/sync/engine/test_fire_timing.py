"""Fire timing in the engine (issue 19, item 1): a station's items are timed against the longest item of their course
on the whole order, whichever station makes it (`open_tickets_timed`); a fire of a held course or a fire now by a
cook re-times at once in the overlay, before any network; through a companion another screen's bump and fire re-time
this one live, and a fire now made offline is applied once after the server returns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api_client.models import DeviceRole, IntentKind
from sync.engine.engine import SyncEngine
from sync.engine.outbox import Outbox
from sync.engine.tickets import open_tickets_timed
from sync.realtime.connection import ConnectionState
from sync.store import LocalStore
from tests.conftest import auth_headers, token_for
from tests.helpers.engine_live import TIMEOUT_S, caught_up, until
from tests.helpers.tickets import Clock, make_order, save
from tests.live_server import LiveServer
from tests.sync.store.support import NOW

LONG, SHORT = 600, 180


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-expo-1", clock=Clock(NOW))
    yield s
    s.close()


def timed(store: LocalStore, station: str | None) -> dict[str, datetime]:
    """name -> fire time of the items on `station`'s rail that wait on fire timing (status new)."""
    with store.snapshot() as conn:
        listed = open_tickets_timed(conn, DeviceRole.kds, station)
    return {
        i.name: fires[i.id]
        for ticket, fires in listed
        for i in ticket.order_items
        if i.id in fires and i.status.value == "new"
    }


def test_a_station_item_is_timed_on_the_whole_order_and_a_pending_fire_re_times_it(store: LocalStore) -> None:
    sent = NOW
    order = make_order(
        [
            {"name": "Ribeye", "station": "grill", "prep_seconds": LONG, "fired_at": sent.isoformat()},
            {"name": "Fries", "station": "fry", "prep_seconds": SHORT, "fired_at": sent.isoformat()},
            {"name": "Steak", "station": "grill", "course": 2, "held": True, "prep_seconds": LONG},
            {"name": "Onion rings", "station": "fry", "course": 2, "held": True, "prep_seconds": SHORT},
        ],
        number="F1",
    )
    save(store, order)
    # The fry screen's view has no ribeye, yet its fries wait on it: fire at 7:00.
    assert timed(store, "fry") == {"Fries": sent + timedelta(seconds=LONG - SHORT)}

    outbox = Outbox(store, DeviceRole.expo)
    fired = outbox.submit(IntentKind.fire, order.id, args={"course": 2})  # nothing sent yet
    assert fired.created_at is not None
    # Course 2 went to the kitchen at the tap (the server's time replaces it): the rings wait on the steak.
    assert timed(store, "fry") == {
        "Fries": sent + timedelta(seconds=LONG - SHORT),
        "Onion rings": fired.created_at + timedelta(seconds=LONG - SHORT),
    }
    fries = next(i for i in order.order_items if i.name == "Fries")
    outbox.submit(IntentKind.start, order.id, item_id=fries.id, station="fry")  # a cook fires the fries now
    assert set(timed(store, "fry")) == {"Onion rings"}


# ---------------------------------------------------------------- live, through a companion


def waiting(engine: SyncEngine, order_id: UUID, station: str) -> dict[str, datetime]:
    return {
        i.name: fires[i.id]
        for ticket, fires in engine.open_tickets_timed(station)
        if ticket.id == order_id
        for i in ticket.order_items
        if i.id in fires and i.status.value == "new"
    }


async def order_with_prep_times(url: str) -> tuple[UUID, dict[str, Any]]:
    """Prep times set by an admin, then a POS order: ribeye and fries now, steak and rings held for course 2."""
    async with httpx.AsyncClient(base_url=url) as http:
        for name, seconds in (("Ribeye", LONG), ("Steak", LONG), ("Fries", SHORT), ("Onion rings", SHORT)):
            r = await http.put(
                f"/api/v1/prep-times/{name}", json={"seconds": seconds}, headers=auth_headers(token_for("admin"))
            )
            assert r.status_code == 200, r.text
        body = {
            "number": "F2",
            "items": [
                {"name": "Ribeye", "station": "grill"},
                {"name": "Fries", "station": "fry"},
                {"name": "Steak", "station": "grill", "course": 2, "held": True},
                {"name": "Onion rings", "station": "fry", "course": 2, "held": True},
            ],
        }
        headers = {**auth_headers(token_for("pos")), "Idempotency-Key": str(uuid.uuid4())}
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    return UUID(created["id"]), {i["name"]: i for i in created["order_items"]}


async def server_items(url: str, order_id: UUID) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, headers=auth_headers(token_for("admin"))) as http:
        r = await http.get("/rest/v1/order_items", params={"order_id": f"eq.{order_id}", "select": "*"})
    assert r.status_code == 200, r.text
    return {row["name"]: row for row in r.json()}


@pytest.mark.slow
async def test_another_screens_fire_re_times_this_one_live_and_a_fire_now_offline_is_applied_once(
    live_server: LiveServer, tmp_path: Path
) -> None:
    order_id, items = await order_with_prep_times(live_server.url)
    sent = datetime.fromisoformat(items["Fries"]["fired_at"])
    async with (
        caught_up(live_server.url, tmp_path, "r1-kds-fry-1", "fry") as fry,
        caught_up(live_server.url, tmp_path, "r1-kds-grill-1", "grill") as grill,
    ):
        await until(fry, lambda: waiting(fry, order_id, "fry") == {"Fries": sent + timedelta(seconds=LONG - SHORT)})
        # The grill bumps its ribeye early: on the fry screen, live, the fries are re-timed to the bump (they fire
        # at once); then the grill fires course 2 and the rings wait on the steak from the server's fire time.
        (ticket,) = [t for t in grill.open_tickets("grill") if t.id == order_id]
        ribeye = next(i for i in ticket.order_items if i.name == "Ribeye")
        grill.submit(IntentKind.bump_item, order_id, item_id=ribeye.id, station="grill")
        async with asyncio.timeout(TIMEOUT_S):
            await grill.queue_depth.wait_for(0)
        await until(fry, lambda: waiting(fry, order_id, "fry") == {})  # 3:00 before a bump seconds in: fire now
        grill.submit(IntentKind.fire, order_id, args={"course": 2})
        async with asyncio.timeout(TIMEOUT_S):
            await grill.queue_depth.wait_for(0)
        went = datetime.fromisoformat((await server_items(live_server.url, order_id))["Onion rings"]["fired_at"])
        assert went > sent
        rings_at = went + timedelta(seconds=LONG - SHORT)
        await until(fry, lambda: waiting(fry, order_id, "fry").get("Onion rings") == rings_at)

        live_server.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await fry.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE)
        (fry_ticket,) = [t for t, _ in fry.open_tickets_timed("fry") if t.id == order_id]
        fries_id = next(i.id for i in fry_ticket.order_items if i.name == "Fries")
        fry.submit(IntentKind.start, order_id, item_id=fries_id, station="fry")  # started, offline
        assert fry.queue_depth.value == 1
        rings = next(i.id for i in fry_ticket.order_items if i.name == "Onion rings")
        fry.submit(IntentKind.start, order_id, item_id=rings, station="fry")  # the rings fired now, offline
        assert waiting(fry, order_id, "fry") == {} and fry.queue_depth.value == 2
        back = live_server.restarted()
        try:
            back.wait_ready()
            async with asyncio.timeout(TIMEOUT_S):
                await fry.queue_depth.wait_for(0)
            assert fry.rejected() == []
            rows = await server_items(back.url, order_id)
            # Applied once each: the fries went up one version, the rings one after their fire.
            assert (rows["Fries"]["status"], rows["Fries"]["version"]) == ("cooking", 2)
            assert (rows["Onion rings"]["status"], rows["Onion rings"]["version"]) == ("cooking", 3)
            assert waiting(fry, order_id, "fry") == {}
        finally:
            back.stop()
