"""A stand-in websocket for the realtime server pump's tests: records what the server sends it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kds_backend.ws_protocol import ABORT_EXTENSION
from tests.kds_backend.realtime.support import TIMEOUT_S


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
