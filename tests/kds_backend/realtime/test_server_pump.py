"""The server's pump around the router, with stand-in websockets: a stuck socket is cut off, nobody waits.

`RealtimeService.serve` runs as it does under uvicorn; the fake websocket only records frames, and one
never finishes sending (a subscriber that stopped reading).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from kds_backend.db.writer import RowChange
from kds_backend.realtime import server as server_module
from kds_backend.realtime.config import MIN_SEND_QUEUE_BYTES, RealtimeConfig
from kds_backend.realtime.memory import FreedMemory
from kds_backend.realtime.server import CLOSE_OVERFLOW, RealtimeService
from kds_backend.ws_protocol import ABORT_EXTENSION
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S

JOIN = {"config": {"postgres_changes": [{"event": "*", "schema": "public", "table": "menu_availability"}]}}


class FakeWebSocket:
    def __init__(self, token: str, *, stuck: bool = False) -> None:
        self.query_params = {"apikey": token, "vsn": "1.0.0"}
        self.headers: dict[str, str] = {}
        self.scope: dict[str, Any] = {"extensions": {ABORT_EXTENSION: {"abort": self._abort}}}
        self.stuck = stuck
        self.close_asked: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.aborted = asyncio.Event()
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.denied: Any = None

    async def accept(self) -> None:
        pass

    async def send_denial_response(self, response: Any) -> None:
        self.denied = response

    async def receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def send_text(self, text: str) -> None:
        self.frames.put_nowait(json.loads(text))
        if self.stuck:
            await asyncio.Event().wait()  # the peer stopped reading: this send never completes

    async def send_bytes(self, data: bytes) -> None:
        raise AssertionError("no binary frames on vsn 1.0.0")

    def _abort(self) -> None:
        self.aborted.set()
        self.inbound.put_nowait({"type": "websocket.disconnect", "code": 1006})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if not self.close_asked.done():
            self.close_asked.set_result(code)
        if self.stuck:
            await asyncio.Event().wait()  # as uvicorn: the close frame waits behind what the peer never read
        if not self.closed.done():
            self.closed.set_result(code)
        self.inbound.put_nowait({"type": "websocket.disconnect", "code": code})

    def send_client(self, event: str, payload: dict[str, Any], topic: str = "realtime:menu", ref: str = "1") -> None:
        frame = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": ref}
        self.inbound.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def next_frame(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), TIMEOUT_S)


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
