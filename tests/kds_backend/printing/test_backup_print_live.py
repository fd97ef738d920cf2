"""The backup printer through a live companion (`kds-backend serve`, SQLite and PostgreSQL): a grill screen joins
Realtime with presence and leaves; only then, after KDS_BACKUP_PRINT_AFTER, do the grill's new and changed tickets
print on a loopback ESC/POS printer, and the grill screen's sync engine shows their printed mark when it is back.
A kill -9 with jobs queued for a printer that is off loses none and prints none twice after the restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api_client.models import DeviceRole
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key
from sync.engine.engine import EngineConfig, SyncEngine
from sync.realtime.connection import ConnectionState, RealtimeConnection
from sync.realtime.phoenix import Binding, ChannelSpec
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.live_server import LiveServer

from .escpos_printer import LoopbackPrinter

pytestmark = pytest.mark.slow

POS = auth_headers(token_for("pos", device="r1-pos-1"))
ADMIN = auth_headers(token_for("admin", device="r1-admin"))
ENV = {
    "KDS_BACKUP_PRINT_AFTER": "1.5",
    "KDS_BACKUP_PRINT_RETRY_MAX": "1",
    # A screen that goes silent leaves presence after 3 s (the screens' client beats every second here).
    "KDS_REALTIME_HEARTBEAT_TIMEOUT_S": "3",
}
TIMEOUT_S = scaled(60.0)
BURGER = {"name": "Burger", "station": "grill", "modifiers": ["no onion"], "allergens": ["sesame"], "notes": "rare"}
FRIES = {"name": "Fries", "station": "fry"}


@pytest.fixture
async def printer() -> AsyncIterator[LoopbackPrinter]:
    p = LoopbackPrinter()
    await p.listen()
    yield p
    p.close()


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    live = LiveServer(tmp_path, database_url, JWT_SECRET, env=ENV)
    try:
        await asyncio.to_thread(live.wait_ready, 90)
        yield live
    finally:
        live.stop()


async def grill_status(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get("/api/v1/station-printers", headers=POS)
    assert r.status_code == 200, r.text
    [status] = [p for p in r.json()["printers"] if p["station"] == "grill"]
    return status


async def until(http: httpx.AsyncClient, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    """Ask for the grill printer's status until `check` holds: the worker's view (who is online, how far the
    screens have seen) is announced nowhere else, so this asks again every 0.1 s, up to the deadline."""
    async with asyncio.timeout(TIMEOUT_S):
        while not check(status := await grill_status(http)):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert status is not None, what
    return status


async def post_order(http: httpx.AsyncClient, number: str, *items: dict[str, Any]) -> dict[str, Any]:
    body = {"number": number, "table_label": "7", "items": list(items)}
    r = await http.post("/api/v1/orders", json=body, headers={**POS, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


def last_seq(order: dict[str, Any]) -> int:
    return max([order["change_seq"], *(i["change_seq"] for i in order["order_items"])])


@asynccontextmanager
async def grill_screen(server: LiveServer) -> AsyncIterator[RealtimeConnection]:
    """A grill screen's own realtime connection (sync/realtime), which tracks presence once its channel is live."""
    conn = RealtimeConnection(
        server.url,
        issue_anon_key(JWT_SECRET),
        [ChannelSpec("kds-r1", (Binding("orders", "*", filter="restaurant_id=eq.r1"),))],
        token_provider=StaticTokenProvider(token_for("kds", device="r1-grill-1", stations=["grill"])),
        heartbeat_s=1.0,
    )
    async with conn:
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.LIVE), TIMEOUT_S)
        yield conn


@asynccontextmanager
async def grill_engine(server: LiveServer, data_dir: Path) -> AsyncIterator[SyncEngine]:
    """The grill screen's sync engine, caught up."""
    token = token_for("kds", device="r1-grill-2", stations=["grill"])
    config = EngineConfig(
        url=server.url,
        anon_key=issue_anon_key(JWT_SECRET),
        restaurant_id="r1",
        device_id="r1-grill-2",
        role=DeviceRole.kds,
        token_provider=StaticTokenProvider(token),
        data_path=data_dir / "grill-2.sqlite3",
        heartbeat_s=1.0,
    )
    engine = SyncEngine(config)
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        yield engine
    finally:
        await engine.stop()


async def test_tickets_print_once_each_only_while_no_grill_screen_is_online(
    server: LiveServer, printer: LoopbackPrinter, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT_S) as http:
        r = await http.put(
            "/api/v1/station-printers/grill", json={"host": "127.0.0.1", "port": printer.port}, headers=ADMIN
        )
        assert r.status_code == 200, r.text

        async with grill_screen(server):
            await until(http, lambda s: s["screen_online"], "the grill screen is online")
            seen = await post_order(http, "A1", BURGER)
            # The screen has had A1 for longer than a silent socket could hide it: it will never print.
            await until(http, lambda s: (s["through_seq"] or 0) >= last_seq(seen), "A1 counts as seen by the screen")
            assert (await grill_status(http))["screen_online"]
        await until(http, lambda s: not s["screen_online"], "the screen has left")

        order = await post_order(http, "B2", {**BURGER, "quantity": 2}, FRIES)
        [slip] = await printer.wait_for(1, TIMEOUT_S)
        assert slip.lines[0].text.strip() == "GRILL"
        assert slip.line("#B2").bold
        assert "2 x Burger" in slip.text and "+ no onion" in slip.text and "Note: rare" in slip.text
        assert slip.line("! ALLERGY: sesame").bold
        assert "Fries" not in slip.text

        r = await http.post(
            f"/api/v1/orders/{order['id']}/items",
            json={"items": [{"name": "Steak", "station": "grill", "allergens": ["mustard"]}]},
            headers={**POS, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        _, changed = await printer.wait_for(2, TIMEOUT_S)
        assert "CHANGED" in changed.text and "1 x Steak" in changed.text and "ALLERGY: mustard" in changed.text

        status = await until(http, lambda s: s["pending_jobs"] == 0, "both jobs are marked printed")
        assert status["printing"] and status["last_error"] is None
        r = await http.get(
            "/rest/v1/order_items", params={"order_id": f"eq.{order['id']}", "select": "name,printed_at"}, headers=POS
        )
        marks = {i["name"]: i["printed_at"] for i in r.json()}
        assert marks["Burger"] and marks["Steak"] and marks["Fries"] is None, marks

        # The grill screen itself comes back (a whole sync engine, which tracks its presence): it shows which of
        # B2's items went to paper, and nothing more prints while it is on.
        async with grill_engine(server, tmp_path) as engine:
            shown = engine.shown_orders([UUID(order["id"])])[UUID(order["id"])]
            assert shown is not None
            assert {i.name: i.printed_at is not None for i in shown.order_items} == {
                "Burger": True,
                "Steak": True,
                "Fries": False,
            }
            await until(http, lambda s: s["screen_online"] and not s["printing"], "the screen is back")
            later = await post_order(http, "C3", BURGER)
            await until(http, lambda s: (s["through_seq"] or 0) >= last_seq(later), "C3 counts as seen")
            assert (await grill_status(http))["screen_online"]
        assert len(printer.slips) == 2, [s.text for s in printer.slips]
        assert all("#A1" not in s.text and "#C3" not in s.text for s in printer.slips)


async def test_a_kill_9_with_jobs_queued_for_a_printer_that_is_off_loses_none_and_repeats_none(
    server: LiveServer, printer: LoopbackPrinter
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT_S) as http:
        r = await http.put(
            "/api/v1/station-printers/grill", json={"host": "127.0.0.1", "port": printer.port}, headers=ADMIN
        )
        assert r.status_code == 200, r.text
        await until(http, lambda s: s["printing"], "no grill screen for KDS_BACKUP_PRINT_AFTER")
        for n in range(2):
            await post_order(http, f"K{n}", BURGER)
        await printer.wait_for(2, TIMEOUT_S)
        printer.refuse()  # the printer goes off (paper change, power)
        for n in range(2, 5):
            await post_order(http, f"K{n}", BURGER)
        status = await until(http, lambda s: s["pending_jobs"] == 3 and s["last_error"], "queued, retrying")
        assert "127.0.0.1" in status["last_error"]

    server.kill()
    restarted = server.restarted()
    try:
        await asyncio.to_thread(restarted.wait_ready, 90)
        await printer.listen()
        slips = await printer.wait_for(5, TIMEOUT_S)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=TIMEOUT_S) as http:
            await until(http, lambda s: s["pending_jobs"] == 0, "every job printed")
        numbers = [s.line("#").text.strip() for s in printer.slips]
        assert sorted(set(numbers)) == [f"#K{n}" for n in range(5)], numbers
        # At least once, and a second copy only as a reprint of the same job (a kill inside a send's few ms).
        for number in set(numbers):
            copies = [s for s in printer.slips if s.line("#").text.strip() == number]
            assert all("REPRINT" in s.text for s in copies[1:]), [s.text for s in copies]
        assert len(slips) >= 5
    finally:
        restarted.stop()
