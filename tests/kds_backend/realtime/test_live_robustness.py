"""What a real server must survive: expiring tokens, silent sockets, hostile frames and stuck subscribers.

Each test starts its own `kds-backend serve` with short realtime timeouts (`KDS_REALTIME_*`), and waits
for events and closes with timeouts, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.realtime_live import recv_json, ws_url
from tests.kds_backend.realtime.support import TIMEOUT_S, Inbox, create_order, order_body
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

OVERFLOW = "fell 200 frames behind; closing it"


def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, heartbeat_timeout_s: float) -> Iterator[LiveServer]:
    monkeypatch.setenv("KDS_REALTIME_HEARTBEAT_TIMEOUT_S", str(heartbeat_timeout_s))
    monkeypatch.setenv("KDS_REALTIME_TICK_S", "0.1")
    monkeypatch.setenv("KDS_REALTIME_SEND_QUEUE", "200")
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def fast_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """Short heartbeat timeout (2 s): only for clients that heartbeat faster than the official ones (25 s)."""
    yield from serve(tmp_path, monkeypatch, 2)


@pytest.fixture
def ticking_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The default heartbeat timeout, with expiry checked every 0.1 s."""
    yield from serve(tmp_path, monkeypatch, 60)




def join_frame(topic: str = "realtime:feed", ref: str = "1", table: str = "orders") -> str:
    config = {"postgres_changes": [{"event": "*", "schema": "public", "table": table}]}
    return json.dumps({"topic": topic, "event": "phx_join", "payload": {"config": config}, "ref": ref, "join_ref": ref})




async def recv_event(ws: websockets.ClientConnection, event: str) -> dict:
    while (msg := await recv_json(ws))["event"] != event:
        pass
    return msg


async def test_token_expiry_during_service_ends_the_channel_like_supabase(ticking_server: LiveServer) -> None:
    token = token_for("kds", ttl_s=3)
    client = AsyncRealtimeClient(f"{ticking_server.url}/realtime/v1", token)
    states = Inbox()
    try:
        channel = client.channel("orders-feed")
        channel.on_postgres_changes("*", Inbox(), table="orders")
        await channel.subscribe(states)
        assert (await states.next())[0] is RealtimeSubscribeStates.SUBSCRIBED
        status, err = await states.next(TIMEOUT_S)
        assert status is RealtimeSubscribeStates.CHANNEL_ERROR
        body = json.loads(str(err))
        assert body["extension"] == "system" and body["status"] == "error" and body["channel"] == "orders-feed"
        assert body["message"].startswith("Token has expired ") and body["message"].endswith(" seconds ago")
        assert (await states.next())[0] is RealtimeSubscribeStates.CLOSED
    finally:
        await client.close()


async def test_a_silent_socket_is_closed_and_a_talking_one_is_not(fast_server: LiveServer) -> None:
    async with (
        websockets.connect(ws_url(fast_server, token_for("kds"))) as silent,
        websockets.connect(ws_url(fast_server, token_for("kds"), "2.0.0")) as talker,
    ):

        async def heartbeats() -> None:
            for n in range(100):
                await talker.send(json.dumps([None, str(n), "phoenix", "heartbeat", {}]))
                reply = json.loads(await asyncio.wait_for(talker.recv(), TIMEOUT_S))
                assert reply == [None, str(n), "phoenix", "phx_reply", {"status": "ok", "response": {}}]
                if silent.close_code is not None:
                    return
                await asyncio.sleep(0.5)  # a client's heartbeat interval, not a wait for the server

        await asyncio.wait_for(asyncio.gather(heartbeats(), silent.wait_closed()), TIMEOUT_S)
        assert silent.close_code == 1000 and silent.close_reason == "heartbeat timeout"
        assert talker.close_code is None


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{definitely not json", 1007),
        (json.dumps({"topic": 1, "event": [], "payload": "x"}), 1007),
        ("[" * 50_000 + "]" * 50_000, 1007),
        (b"\x03\xff\xff\xff\xff\xff\x01", 1007),
        ("x" * 1_100_000, 1009),
        # Still arriving when it is refused at its header: the close must reach the client, not a TCP reset.
        ("x" * 16_000_000, 1009),
    ],
)
async def test_hostile_frames_close_that_socket_and_the_others_carry_on(
    fast_server: LiveServer, frame: str | bytes, code: int
) -> None:
    async with (
        websockets.connect(ws_url(fast_server, token_for("kds"), "2.0.0"), max_size=None) as hostile,
        websockets.connect(ws_url(fast_server, token_for("kds"))) as bystander,
    ):
        await bystander.send(join_frame())
        assert (await recv_json(bystander))["payload"]["status"] == "ok"
        with contextlib.suppress(websockets.ConnectionClosed):  # closed while the frame was still going out
            await hostile.send(frame)
        await asyncio.wait_for(hostile.wait_closed(), TIMEOUT_S)
        assert hostile.close_code == code
        async with httpx.AsyncClient(base_url=fast_server.url) as http:
            order = await create_order(http, "r1", "A1")
        change = await recv_event(bystander, "postgres_changes")
        assert change["payload"]["data"]["record"]["id"] == order["id"]


async def test_bad_join_payloads_get_error_replies_not_crashes(fast_server: LiveServer) -> None:
    async with websockets.connect(ws_url(fast_server, token_for("kds"))) as ws:
        bad = [
            {"config": "nope"},
            {"config": {"postgres_changes": "nope"}},
            {"access_token": 42},
            {
                "config": {
                    "postgres_changes": [{"event": "*", "table": "devices"}],
                    "postgres_changes_options": {"wait": True},
                }
            },
        ]
        for n, payload in enumerate(bad):
            await ws.send(
                json.dumps({"topic": f"realtime:t{n}", "event": "phx_join", "payload": payload, "ref": str(n)})
            )
            reply = await recv_json(ws)
            assert reply["payload"]["status"] == "error" and reply["ref"] == str(n)
        await ws.send(join_frame())
        assert (await recv_json(ws))["payload"]["status"] == "ok"


async def test_a_stuck_subscriber_is_cut_off_and_delays_no_one(ticking_server: LiveServer) -> None:
    server = ticking_server
    # The stuck client never reads, with a tiny receive buffer and no compression, so the server's
    # writes to it soon block and its queue (200 frames here) fills up.
    raw = socket.create_connection(("127.0.0.1", server.port))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck = await websockets.connect(ws_url(server, token_for("kds")), sock=raw, max_queue=1, compression=None)
    client = AsyncRealtimeClient(f"{server.url}/realtime/v1", token_for("kds", device="r1-kds-2"))
    inbox = Inbox()
    try:
        await stuck.send(join_frame(table="*"))
        channel = client.channel("orders-feed")
        channel.on_postgres_changes("*", inbox, table="order_items")
        await channel.subscribe()
        big = order_body("A")
        big["items"] = [{"name": f"Item {n}", "category": "grill", "notes": "x" * 1500} for n in range(60)]
        headers = auth_headers(token_for("pos"))
        async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT_S) as http:
            for n in range(100):
                body = {**big, "number": f"A{n}"}
                r = await http.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": f"k{n}"})
                assert r.status_code == 201, r.text
                # The healthy subscriber gets every item of every order, however stuck the other socket is.
                for _ in range(60):
                    assert (await inbox.next())["data"]["record"]["order_id"] == r.json()["id"]
                if OVERFLOW in server.log_path.read_text():
                    break
        assert OVERFLOW in server.log_path.read_text()
    finally:
        await client.close()
        stuck.transport.abort()


async def test_websockets_are_not_compressed_unless_asked_as_on_supabase(
    ticking_server: LiveServer, tmp_path: Path
) -> None:
    """Supabase's endpoint never negotiates permessage-deflate (Phoenix's default), and neither does the companion
    unless `KDS_WS_COMPRESSION=1`: a client offering it (websockets does by default) gets plain frames."""
    async with websockets.connect(ws_url(ticking_server, token_for("kds"))) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
    compressing = LiveServer(
        tmp_path, f"sqlite:///{tmp_path / 'compressing.db'}", JWT_SECRET, env={"KDS_WS_COMPRESSION": "1"}
    )
    try:
        compressing.wait_ready()
        async with websockets.connect(ws_url(compressing, token_for("kds"))) as ws:
            assert ws.response is not None
            assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
    finally:
        compressing.stop()


@pytest.mark.parametrize(("raw", "on"), [("1", True), ("on", True), ("0", False), ("no", False)])
def test_the_compression_setting_reads_a_flag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str, on: bool
) -> None:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KDS_WS_COMPRESSION", raw)
    assert Settings.from_env().ws_compression is on


def test_a_bad_compression_setting_stops_the_server_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KDS_WS_COMPRESSION", "maybe")
    with pytest.raises(ValueError, match="KDS_WS_COMPRESSION must be 1 or 0"):
        Settings.from_env()
