"""The official `@supabase/realtime-js` (pinned in js/package.json) with its default options: vsn 2.0.0.

Node runs `js/subscriber.mjs`, which prints one JSON line per callback. It must see its restaurant's
INSERT/UPDATE/DELETE (transformed by the SDK into `eventType`/`new`/`old`), presence from a Python client
on the same channel, and its own binary broadcast echoed back (`self: true`, `ack: true`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from realtime import AsyncRealtimeClient

from tests.conftest import token_for
from tests.kds_backend.realtime.support import Inbox, NodeSubscriber, create_order, delete_order, start_order
from tests.live_server import LiveServer
from tests.npm_packages import npm_installed

pytestmark = pytest.mark.slow

JS_DIR = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def realtime_js() -> Path:
    """The pinned realtime-js, installed once per session (`npm ci` from the committed lock file)."""
    return npm_installed(JS_DIR)


@pytest.fixture
async def node_subscriber(realtime_js: Path, live_server: LiveServer) -> AsyncIterator[NodeSubscriber]:
    proc = await asyncio.create_subprocess_exec(
        str(realtime_js),
        "subscriber.mjs",
        live_server.url,
        token_for("expo"),
        "expo-1",
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    subscriber = NodeSubscriber(proc)
    try:
        yield subscriber
    finally:
        subscriber.reader.cancel()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_realtime_js_defaults_against_the_companion(
    node_subscriber: NodeSubscriber, live_server: LiveServer
) -> None:
    js = node_subscriber
    assert (await js.next("vsn"))["vsn"] == "2.0.0"
    assert (await js.next("status"))["status"] == "SUBSCRIBED"
    system = (await js.next("system"))["payload"]
    assert system == {
        "extension": "postgres_changes",
        "status": "ok",
        "message": "Subscribed to PostgreSQL",
        "channel": "orders-feed",
    }
    assert (await js.next("track"))["result"] == "ok"
    while "expo-1" not in (await js.next("presence"))["state"]:
        pass

    # A Python screen on the same channel shows up in the JS client's presence.
    py = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("kds", device="r1-kds-7"))
    try:
        channel = py.channel("orders-feed", {"config": {"presence": {"key": "grill-7", "enabled": True}}})
        synced = Inbox()
        channel.on_presence_sync(synced)
        await channel.subscribe()
        await channel.track({"screen": "grill-7"})
        while set((await js.next("presence"))["state"]) != {"expo-1", "grill-7"}:
            pass
        await synced.next()
        assert {"expo-1", "grill-7"} <= set(channel.presence_state())
    finally:
        await py.close()

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await create_order(http, "r2", "B1")
        order = await create_order(http, "r1", "A1")
        first = (await js.next("change"))["payload"]
        assert (first["table"], first["eventType"]) == ("orders", "INSERT")
        assert first["new"]["id"] == order["id"] and first["new"]["restaurant_id"] == "r1"
        assert first["schema"] == "public" and first["commit_timestamp"].endswith("Z")
        items = [(await js.next("change"))["payload"] for _ in range(2)]
        assert {i["new"]["name"] for i in items} == {"Burger", "Fries"}
        assert all(i["new"]["modifiers"] == [] for i in items)  # jsonb arrives as JSON, not a string

        await start_order(http, "r1", order["id"])  # the order and both items change
        updates = [(await js.next("change"))["payload"] for _ in range(3)]
        assert {u["table"] for u in updates} == {"orders", "order_items"}
        for update in updates:
            assert update["eventType"] == "UPDATE" and update["new"]["restaurant_id"] == "r1"
            # The whole previous row (Supabase with replica identity full), cast by the SDK like the new one.
            old, new = update["old"], update["new"]
            assert set(old) == set(new) and old["id"] == new["id"] and old["version"] == new["version"] - 1
            assert old["status"] == "new" and new["status"] != "new"

        await delete_order(http, "r1", order["id"])
        deletes = [(await js.next("change"))["payload"] for _ in range(3)]
        assert [d["eventType"] for d in deletes] == ["DELETE"] * 3
        assert deletes[-1]["table"] == "orders" and deletes[-1]["old"] == {"id": order["id"]}
        assert deletes[-1]["new"] == {}

    # Broadcast goes out as a binary frame (vsn 2.0.0) and comes back to the sender (self: true, ack: true).
    await js.send("broadcast")
    echoed = (await js.next("broadcast"))["payload"]
    assert echoed == {"type": "broadcast", "event": "ping", "payload": {"n": 1}}
    assert (await js.next("sent"))["result"] == "ok"
    await js.send("quit")
    assert (await js.next("status"))["status"] == "CLOSED"
