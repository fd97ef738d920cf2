"""The server's pump around the router, with stand-in websockets: a stuck socket is cut off, nobody waits.

`RealtimeService.serve` runs as it does under uvicorn; the fake websocket only records frames, and one
never finishes sending (a subscriber that stopped reading).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from kds_backend.db.writer import RowChange
from kds_backend.realtime import server as server_module
from kds_backend.realtime.config import MIN_SEND_QUEUE_BYTES, RealtimeConfig
from kds_backend.realtime.memory import FreedMemory
from kds_backend.realtime.server import CLOSE_OVERFLOW, RealtimeService
from tests.conftest import JWT_SECRET, token_for
from tests.helpers.realtime_pump import FakeWebSocket
from tests.kds_backend.realtime.support import TIMEOUT_S

JOIN = {"config": {"postgres_changes": [{"event": "*", "schema": "public", "table": "menu_availability"}]}}




def change(seq: int) -> RowChange:
    at = datetime.now(UTC)
    row = {"id": uuid4(), "restaurant_id": "r1", "item_name": f"Item {seq}", "available": False, "reason": None}
    row |= {"updated_by": "d1", "updated_at": at, "version": 1, "change_seq": seq}
    return RowChange("menu_availability", "INSERT", row, None, at, seq)


@pytest.fixture
def quick_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """A close that has not gone through in 0.2 s (not 5) is given up, so a stuck socket's reset comes soon."""
    monkeypatch.setattr(server_module, "CLOSE_TIMEOUT_S", 0.2)


@pytest.mark.usefixtures("quick_close")
async def test_a_stuck_socket_overflows_alone_and_the_others_get_everything() -> None:
    service = RealtimeService(JWT_SECRET, RealtimeConfig(send_queue_frames=20))
    healthy, stuck = (
        FakeWebSocket(token_for("kds", device="a")),
        FakeWebSocket(token_for("kds", device="b"), stuck=True),
    )
    tasks = [asyncio.create_task(service.serve(ws)) for ws in (healthy, stuck)]
    try:
        for ws in (healthy, stuck):
            ws.send_client("phx_join", JOIN)
        assert (await healthy.next_frame())["payload"]["status"] == "ok"
        assert (await healthy.next_frame())["event"] == "system"
        assert (await stuck.next_frame())["payload"]["status"] == "ok"  # its first send is the one that hangs
        for seq in range(1, 101):
            service.publish([change(seq)])  # synchronous: never waits for any socket
            got = await healthy.next_frame()
            assert got["payload"]["data"]["record"]["change_seq"] == seq
        assert await asyncio.wait_for(stuck.close_asked, TIMEOUT_S) == CLOSE_OVERFLOW
        # Its close cannot get through (it stopped reading): its connection is reset, and its handler ends.
        await asyncio.wait_for(stuck.aborted.wait(), TIMEOUT_S)
        assert not healthy.closed.done()
        await asyncio.wait_for(tasks[1], TIMEOUT_S)  # the stuck socket's handler has ended
        assert set(service.router.connections) == {1}
    finally:
        healthy.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S)


async def test_handshake_denials() -> None:
    service = RealtimeService(JWT_SECRET)
    missing = FakeWebSocket("")
    await service.serve(missing)
    assert missing.denied.status_code == 401 and json.loads(missing.denied.body) == {"error": "API key is missing"}
    odd = FakeWebSocket(token_for("kds"))
    odd.query_params["vsn"] = "3.0.0"
    await service.serve(odd)
    assert odd.denied.status_code == 400


@pytest.mark.usefixtures("quick_close")
async def test_a_stuck_socket_is_closed_by_the_bytes_it_holds_not_only_by_its_frame_count() -> None:
    """Large broadcasts: 2,000 frames of 300 KB would be 600 MB for one socket that never reads; the byte bound
    closes it after a few, drops what it held, and the other socket gets every broadcast."""
    config = RealtimeConfig(send_queue_frames=2000, send_queue_bytes=MIN_SEND_QUEUE_BYTES)
    service = RealtimeService(JWT_SECRET, config)
    service.freed = FreedMemory(trim=lambda _pad: 0)
    healthy, stuck = (
        FakeWebSocket(token_for("kds", device="a")),
        FakeWebSocket(token_for("kds", device="b"), stuck=True),
    )
    tasks = [asyncio.create_task(service.serve(ws)) for ws in (healthy, stuck)]
    try:
        for ws in (healthy, stuck):
            ws.send_client("phx_join", {"config": {}})
        assert (await healthy.next_frame())["payload"]["status"] == "ok"
        assert (await stuck.next_frame())["payload"]["status"] == "ok"  # its first send is the one that hangs
        blob = "x" * 300_000
        for n in range(40):
            service.broadcast("r1", "menu", "big", {"n": n, "blob": blob})
            assert (await healthy.next_frame())["payload"]["payload"]["n"] == n
            for peer in service.peers.values():
                assert peer.queued_bytes <= config.send_queue_bytes
        assert await asyncio.wait_for(stuck.close_asked, TIMEOUT_S) == CLOSE_OVERFLOW
        await asyncio.wait_for(stuck.aborted.wait(), TIMEOUT_S)
        await asyncio.wait_for(tasks[1], TIMEOUT_S)
        assert set(service.peers) == {1}
        assert service.freed.pending > 1_000_000  # what it held is counted for the next trim
    finally:
        healthy.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S)


def test_freed_memory_is_trimmed_once_enough_was_dropped() -> None:
    calls: list[int] = []
    freed = FreedMemory(threshold=1000, trim=lambda pad: calls.append(pad) or 1)
    freed.add(600)
    assert not freed.release() and calls == []
    freed.add(600)
    assert freed.release() and calls == [0] and freed.pending == 0
    assert not freed.release()


async def test_the_heartbeat_goes_to_each_restaurants_sync_channel_only() -> None:
    """Issue 19, item 7: `kds_heartbeat` through the same fan-out and queues as changes, to `kds-<restaurant>`
    (the screens' postgres_changes channel) of every restaurant with one, never to another topic."""
    service = RealtimeService(JWT_SECRET)
    r1, r2, other = (
        FakeWebSocket(token_for("kds", device="a")),
        FakeWebSocket(token_for("kds", device="b", restaurant="r2")),
        FakeWebSocket(token_for("kds", device="c")),
    )
    tasks = [asyncio.create_task(service.serve(ws)) for ws in (r1, r2, other)]
    try:
        for ws, topic in ((r1, "realtime:kds-r1"), (r2, "realtime:kds-r2"), (other, "realtime:menu")):
            ws.send_client("phx_join", JOIN, topic=topic)
            assert (await ws.next_frame())["payload"]["status"] == "ok"
            assert (await ws.next_frame())["event"] == "system"
        service.heartbeat()
        for ws, topic in ((r1, "realtime:kds-r1"), (r2, "realtime:kds-r2")):
            beat = await ws.next_frame()
            assert (beat["topic"], beat["event"]) == (topic, "broadcast")
            assert beat["payload"]["event"] == "kds_heartbeat" and isinstance(beat["payload"]["payload"]["at"], float)
        service.publish([change(1)])
        assert (await other.next_frame())["event"] == "postgres_changes"  # the change, no heartbeat before it
    finally:
        for ws in (r1, r2, other):
            ws.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S)
