"""Broadcast from Database on the companion (issue 17, item 14): the official clients and our engine's realtime
connection receive a restaurant's row changes on its private topic `kds:<restaurant>`, as they would from
Supabase's `realtime.broadcast_changes` trigger; only that restaurant's devices may join it, and no device may
broadcast on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from api_client.broadcast import restaurant_topic
from api_client.models import DeviceRole, OrderChange, OrderItemChange, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key
from sync.engine.engine import EngineConfig, SyncEngine
from sync.realtime.channels import sync_channel
from sync.realtime.connection import ChangeEvent, ConnectionState, LiveAgain, RealtimeConnection
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S, Inbox, create_order, delete_order, start_order
from tests.live_server import LiveServer
from tests.npm_packages import npm_installed

JS_DIR = Path(__file__).parent / "js"
TOPIC = restaurant_topic("r1")


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT_S) as client:
        yield client


async def join(client: AsyncRealtimeClient, name: str, private: bool, changes: Inbox) -> Inbox:
    """Join `name` and wait for the first state; changes of every operation go to `changes`."""
    states = Inbox()
    channel = client.channel(name, {"config": {"private": private, "broadcast": {"ack": True, "self": False}}})
    for event in ("INSERT", "UPDATE", "DELETE"):
        channel.on_broadcast(event, changes)
    await channel.subscribe(states)
    return states


def shape(message: dict[str, Any]) -> tuple[str, str, str]:
    payload = message["payload"]
    # (The Python client's callback gets the push without its `type`, realtime-js's with it.)
    assert message.get("type", "broadcast") == "broadcast" and message["event"] == payload["operation"]
    assert message["meta"]["id"] == payload["id"]  # realtime.send's id, as Realtime's meta
    assert payload["schema"] == "public"
    return payload["operation"], payload["table"], message["meta"]["id"]


async def test_the_official_python_client_gets_its_restaurants_changes(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    client = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("expo"))
    # A public channel of the same name is another topic: it gets none of them (as on Supabase).
    bystander = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("expo", device="r1-expo-2"))
    try:
        private, public = Inbox(), Inbox()
        state, _ = await (await join(client, TOPIC, True, private)).next()
        assert state == RealtimeSubscribeStates.SUBSCRIBED
        state, _ = await (await join(bystander, TOPIC, False, public)).next()
        assert state == RealtimeSubscribeStates.SUBSCRIBED

        order = await create_order(http, "r2", "B1")  # another restaurant's: not on this topic
        order = await create_order(http, "r1", "A1")
        inserts = [await private.next() for _ in range(3)]
        assert sorted(shape(m)[:2] for m in inserts) == [
            ("INSERT", "order_items"),
            ("INSERT", "order_items"),
            ("INSERT", "orders"),
        ]
        (placed,) = [m["payload"] for m in inserts if m["payload"]["table"] == "orders"]
        assert placed["old_record"] is None and placed["record"]["id"] == order["id"]
        assert placed["record"]["number"] == "A1" and placed["record"]["restaurant_id"] == "r1"
        assert len({shape(m)[2] for m in inserts}) == 3, "each message its own id"

        await start_order(http, "r1", order["id"])
        update = (await private.next())["payload"]
        while update["table"] != "orders":  # its items are started in the same commit
            update = (await private.next())["payload"]
        assert update["operation"] == "UPDATE"
        assert update["old_record"]["status"] == "new" and update["record"]["status"] == "in_progress"
        assert update["old_record"]["number"] == "A1", "the whole previous row, as the trigger has it"

        await delete_order(http, "r1", order["id"])
        deletes = []
        while len(deletes) < 3:
            message = (await private.next())["payload"]
            if message["operation"] == "DELETE":
                deletes.append(message)
        by_table = {(d["table"], d["old_record"]["id"] if d["table"] == "orders" else "item") for d in deletes}
        assert ("orders", order["id"]) in by_table and all(d["record"] is None for d in deletes)
        assert public.queue.empty()
    finally:
        await client.close()
        await bystander.close()


async def test_only_the_restaurants_devices_may_join_and_none_may_broadcast_there(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    other = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("admin", restaurant="r2"))
    mine = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("admin"))
    screen = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("kds", device="r1-kds-1"))
    anon = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", issue_anon_key(JWT_SECRET))
    try:
        for client in (other, anon):
            state, error = await (await join(client, TOPIC, True, Inbox())).next()
            assert state == RealtimeSubscribeStates.CHANNEL_ERROR
            assert f"Unauthorized: You do not have permissions to read from this Channel topic: {TOPIC}" in str(error)

        assert (await (await join(mine, TOPIC, True, Inbox())).next())[0] == RealtimeSubscribeStates.SUBSCRIBED
        seen = Inbox()
        assert (await (await join(screen, TOPIC, True, seen)).next())[0] == RealtimeSubscribeStates.SUBSCRIBED
        forged = {"operation": "INSERT", "schema": "public", "table": "orders", "record": {"number": "FAKE"}}
        await mine.channels[f"realtime:{TOPIC}"].send_broadcast("INSERT", forged)
        # The next thing the screen gets is the database's own change, not the device's made-up one.
        order = await create_order(http, "r1", "A1")
        first = (await seen.next())["payload"]
        assert first["record"]["number"] == "A1" and order["number"] == "A1"
    finally:
        for client in (other, mine, screen, anon):
            await client.close()


async def test_a_token_of_another_restaurant_ends_the_private_channel(live_server: LiveServer) -> None:
    client = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("expo"))
    try:
        states = await join(client, TOPIC, True, Inbox())
        assert (await states.next())[0] == RealtimeSubscribeStates.SUBSCRIBED
        await client.set_auth(token_for("expo", restaurant="r2"))
        state, error = await states.next()
        assert state == RealtimeSubscribeStates.CHANNEL_ERROR
        assert "You no longer have permission to read from this Channel topic" in str(error)
    finally:
        await client.close()


async def test_our_engine_connection_gets_the_changes_as_it_gets_postgres_changes(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    connection = RealtimeConnection(
        live_server.url,
        issue_anon_key(JWT_SECRET),
        [sync_channel("r1", ("orders", "order_items", "menu_availability"), "broadcast")],
        token_provider=StaticTokenProvider(token_for("kds", stations=["grill"])),
    )
    events = connection.events()
    await connection.start()
    try:
        live = await events.next_event(TIMEOUT_S)
        assert isinstance(live, LiveAgain) and live.topic == f"realtime:{TOPIC}"
        order = await create_order(http, "r1", "A1")
        changes = [await events.next_event(TIMEOUT_S) for _ in range(3)]
        assert all(isinstance(c, ChangeEvent) for c in changes)
        parsed = [c.change for c in changes if isinstance(c, ChangeEvent)]
        orders = [c for c in parsed if isinstance(c, OrderChange)]
        items = [c for c in parsed if isinstance(c, OrderItemChange)]
        assert len(orders) == 1 and len(items) == 2, parsed
        assert orders[0].type == "INSERT" and orders[0].record is not None
        assert str(orders[0].record.id) == order["id"] and orders[0].record.number == "A1"
        # One commit: the engine groups an order and its items by this, so a ticket is painted whole.
        assert len({c.commit_timestamp for c in parsed}) == 1 and orders[0].commit_timestamp

        await start_order(http, "r1", order["id"])
        update = await events.next_event(TIMEOUT_S)
        while isinstance(update, ChangeEvent) and isinstance(update.change, OrderItemChange):
            update = await events.next_event(TIMEOUT_S)  # its items are started in the same commit
        assert isinstance(update, ChangeEvent) and isinstance(update.change, OrderChange)
        assert update.change.type == "UPDATE" and update.change.old_record is not None
        assert update.change.old_record["status"] == "new"
    finally:
        await connection.close()


@pytest.mark.slow
async def test_realtime_js_gets_them_on_the_private_topic(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    node = npm_installed(JS_DIR)
    proc = await asyncio.create_subprocess_exec(
        str(node),
        "broadcast_subscriber.mjs",
        live_server.url,
        token_for("expo"),
        TOPIC,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None

    async def line() -> dict[str, Any]:
        return dict(json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT_S)))  # type: ignore[union-attr]

    try:
        assert (await line()) == {"kind": "status", "status": "SUBSCRIBED", "error": None}
        order = await create_order(http, "r1", "A1")
        received = [(await line())["message"] for _ in range(3)]
        assert sorted(shape(m)[:2] for m in received) == [
            ("INSERT", "order_items"),
            ("INSERT", "order_items"),
            ("INSERT", "orders"),
        ]
        (placed,) = [m["payload"]["record"] for m in received if m["payload"]["table"] == "orders"]
        assert placed["id"] == order["id"]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_a_screen_engine_configured_for_broadcast_shows_orders_and_taps(
    live_server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The whole engine with `realtime="broadcast"`: catch-up as ever, then changes from the private topic (its
    safety catch-up is a minute away, so what arrives within the timeout came over realtime)."""
    config = EngineConfig(
        url=live_server.url,
        anon_key=issue_anon_key(JWT_SECRET),
        restaurant_id="r1",
        device_id="r1-kds-grill-1",
        role=DeviceRole.kds,
        stations=("grill",),
        token_provider=StaticTokenProvider(token_for("kds", device="r1-kds-grill-1", stations=["grill"])),
        data_path=tmp_path / "screen.db",
        realtime="broadcast",
    )
    engine = SyncEngine(config)
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        assert engine.connection_state.value is ConnectionState.LIVE
        order = await create_order(http, "r1", "A1")

        async def until(ready: Callable[[], bool]) -> None:
            async with engine.changes() as changes, asyncio.timeout(TIMEOUT_S):
                while not ready():
                    await changes.get()

        def ticket() -> OrderWithItems | None:
            return next((o for o in engine.open_tickets("grill") if str(o.id) == order["id"]), None)

        await until(lambda: ticket() is not None)
        await start_order(http, "r1", order["id"])
        await until(lambda: (t := ticket()) is not None and t.status == "in_progress")
    finally:
        await engine.stop()
