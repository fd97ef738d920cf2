"""A lone surrogate (`"\\ud800"`) in a realtime message is refused to its sender; every other screen on the
topic keeps receiving (issue 17, item 4).

`"\\ud800"` is valid JSON and parses to a Python str that UTF-8 cannot encode. Relayed as it was, it broke the
send loop of every socket it was fanned out to, so one broadcast or presence track silently stopped delivery
to the whole topic. Against a real `kds-backend serve` on loopback, in both serializers.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

TOPIC = "realtime:pass"
BAD = "Burger \ud800 up"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET)
    try:
        live.wait_ready()
        yield live
    finally:
        live.stop()


def url(server: LiveServer, device: str, vsn: str = "1.0.0") -> str:
    token = token_for("kds", device=device)
    return f"{server.url.replace('http', 'ws')}/realtime/v1/websocket?apikey={token}&vsn={vsn}"


def v1(event: str, payload: dict[str, Any], ref: str, topic: str = TOPIC) -> str:
    # json.dumps escapes the lone surrogate as `\ud800`: ASCII text a websocket carries, as a hostile client sends it.
    return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": "1"})


def join_payload(presence_key: str = "") -> dict[str, Any]:
    config = {"broadcast": {"ack": True, "self": False}, "presence": {"key": presence_key, "enabled": True}}
    return {"config": config}


async def frames(ws: websockets.ClientConnection) -> dict[str, Any]:
    """The next text frame as a V1 object (V2 arrays are reshaped)."""
    while True:
        data = await asyncio.wait_for(ws.recv(), TIMEOUT_S)
        if isinstance(data, bytes):
            return {"binary": data}
        msg = json.loads(data)
        if isinstance(msg, list):
            join_ref, ref, topic, event, payload = msg
            msg = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
        return msg


async def next_event(ws: websockets.ClientConnection, *events: str) -> dict[str, Any]:
    while (msg := await frames(ws)).get("event") not in events:
        pass
    return msg


async def reply_to(ws: websockets.ClientConnection, ref: str) -> dict[str, Any]:
    while not ((msg := await frames(ws)).get("event") == "phx_reply" and msg.get("ref") == ref):
        pass
    return msg["payload"]


async def join(ws: websockets.ClientConnection, vsn: str = "1.0.0", presence_key: str = "") -> None:
    if vsn == "1.0.0":
        await ws.send(v1("phx_join", join_payload(presence_key), "1"))
    else:
        await ws.send(json.dumps(["1", "1", TOPIC, "phx_join", join_payload(presence_key)]))
    assert (await reply_to(ws, "1"))["status"] == "ok"


def user_broadcast_v2(event: str, body: bytes, ref: str = "9") -> bytes:
    """A V2 binary user broadcast push (kind 3) with a JSON body."""
    fields = [b"1", ref.encode(), TOPIC.encode(), event.encode(), b""]
    return bytes([3, *[len(f) for f in fields], 1]) + b"".join(fields) + body


async def test_a_broadcast_with_a_lone_surrogate_is_refused_and_the_topic_keeps_delivering(
    server: LiveServer,
) -> None:
    async with (
        websockets.connect(url(server, "r1-grill")) as sender,
        websockets.connect(url(server, "r1-expo")) as expo,
        websockets.connect(url(server, "r1-fry", "2.0.0")) as fry,
    ):
        for ws, vsn in ((sender, "1.0.0"), (expo, "1.0.0"), (fry, "2.0.0")):
            await join(ws, vsn)
        await sender.send(v1("broadcast", {"type": "broadcast", "event": "bump", "payload": {"name": BAD}}, "2"))
        refused = await reply_to(sender, "2")
        assert refused["status"] == "error" and "surrogate" in refused["response"]["reason"]
        # The sender's socket is still open, and the next broadcast reaches everyone else.
        await sender.send(v1("broadcast", {"type": "broadcast", "event": "bump", "payload": {"name": "Burger"}}, "3"))
        assert (await reply_to(sender, "3"))["status"] == "ok"
        for ws in (expo, fry):
            got = await next_event(ws, "broadcast")
            assert got["payload"]["payload"] == {"name": "Burger"}


async def test_a_binary_broadcast_with_a_lone_surrogate_is_refused_too(server: LiveServer) -> None:
    async with (
        websockets.connect(url(server, "r1-grill", "2.0.0")) as sender,
        websockets.connect(url(server, "r1-expo")) as expo,
    ):
        await join(sender, "2.0.0")
        await join(expo)
        await sender.send(user_broadcast_v2("bump", json.dumps({"name": BAD}).encode()))
        refused = await reply_to(sender, "9")
        assert refused["status"] == "error" and "surrogate" in refused["response"]["reason"]
        await sender.send(user_broadcast_v2("bump", json.dumps({"name": "Burger"}).encode(), ref="10"))
        assert (await reply_to(sender, "10"))["status"] == "ok"
        assert (await next_event(expo, "broadcast"))["payload"]["payload"] == {"name": "Burger"}


async def test_a_presence_track_with_a_lone_surrogate_is_refused_and_presence_keeps_working(
    server: LiveServer,
) -> None:
    async with (
        websockets.connect(url(server, "r1-grill")) as tracker,
        websockets.connect(url(server, "r1-expo")) as expo,
    ):
        await join(tracker)
        await join(expo)
        bad = {"type": "presence", "event": "track", "payload": {"screen": BAD}}
        await tracker.send(v1("presence", bad, "2"))
        refused = await reply_to(tracker, "2")
        assert refused["status"] == "error" and "surrogate" in refused["response"]["reason"]
        good = {"type": "presence", "event": "track", "payload": {"screen": "grill"}}
        await tracker.send(v1("presence", good, "3"))
        assert (await reply_to(tracker, "3"))["status"] == "ok"
        diff = await next_event(expo, "presence_diff")
        assert [m["screen"] for entry in diff["payload"]["joins"].values() for m in entry["metas"]] == ["grill"]
        # A screen joining later gets the presence state whole.
        async with websockets.connect(url(server, "r1-pass")) as late:
            await late.send(v1("phx_join", join_payload(), "1"))
            state = await next_event(late, "presence_state")
            assert [m["screen"] for entry in state["payload"].values() for m in entry["metas"]] == ["grill"]


async def test_a_presence_key_with_a_lone_surrogate_is_refused_at_join(server: LiveServer) -> None:
    async with (
        websockets.connect(url(server, "r1-grill")) as hostile,
        websockets.connect(url(server, "r1-expo")) as expo,
        websockets.connect(url(server, "r1-fry")) as fry,
    ):
        await join(expo)
        await hostile.send(v1("phx_join", join_payload(presence_key="\udc00"), "1"))
        refused = await reply_to(hostile, "1")
        assert refused["status"] == "error" and "surrogate" in refused["response"]["reason"]
        await join(fry)
        await fry.send(v1("presence", {"type": "presence", "event": "track", "payload": {"screen": "fry"}}, "2"))
        assert (await reply_to(fry, "2"))["status"] == "ok"
        diff = await next_event(expo, "presence_diff")
        assert [m["screen"] for entry in diff["payload"]["joins"].values() for m in entry["metas"]] == ["fry"]


def test_the_binary_frame_helper_matches_the_protocol() -> None:
    frame = user_broadcast_v2("bump", b"{}")
    assert frame[0] == 3 and struct.unpack("5B", frame[1:6]) == (1, 1, len(TOPIC), 4, 0) and frame[6] == 1
