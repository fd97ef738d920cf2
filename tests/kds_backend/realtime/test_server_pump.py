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

from kds_backend.db.writer import RowChange
from kds_backend.realtime.config import RealtimeConfig
from kds_backend.realtime.server import CLOSE_OVERFLOW, RealtimeService
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S

JOIN = {"config": {"postgres_changes": [{"event": "*", "schema": "public", "table": "menu_availability"}]}}


class FakeWebSocket:
    def __init__(self, token: str, *, stuck: bool = False) -> None:
        self.query_params = {"apikey": token, "vsn": "1.0.0"}
        self.headers: dict[str, str] = {}
        self.stuck = stuck
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

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
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
        assert await asyncio.wait_for(stuck.closed, TIMEOUT_S) == CLOSE_OVERFLOW
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
