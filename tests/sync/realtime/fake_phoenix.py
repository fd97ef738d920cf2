"""A scripted Phoenix server on a real `websockets` socket: it misbehaves the ways Supabase's real one does."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve

from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(10.0)
BINDING_IDS = (101, 202)
SUBSCRIBED = {"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": "x"}


def order_row(number: str = "42") -> dict[str, Any]:
    now = "2026-11-21T18:30:00.000Z"
    return {
        "id": str(uuid.uuid4()),
        "restaurant_id": "r1",
        "number": number,
        "source": "pos",
        "type": "dine_in",
        "table_label": "12",
        "server_name": None,
        "guests": 2,
        "customer_name": None,
        "notes": None,
        "priority": "normal",
        "status": "new",
        "created_at": now,
        "due_at": None,
        "updated_at": now,
        "version": 1,
        "change_seq": 7,
    }


def order_insert(number: str = "42") -> dict[str, Any]:
    return {
        "schema": "public",
        "table": "orders",
        "type": "INSERT",
        "commit_timestamp": "2026-11-21T18:30:00.000Z",
        "columns": [{"name": "id", "type": "uuid"}],
        "record": order_row(number),
        "errors": None,
    }


class FakePhoenix:
    """Answers joins and heartbeats on every connection, unless told to misbehave.

    - `hold_system`: the ok `phx_reply` goes out at once, `system` "Subscribed to PostgreSQL" only on `release()`
    - `join_errors`: the next joins are refused with these reasons, one each
    - `silent`: the current socket stays open but nothing is answered (a dead peer behind a NAT)
    """

    def __init__(self) -> None:
        self.server: Server | None = None
        self.port = 0
        self.connections = 0
        self.current: ServerConnection | None = None
        self.frames: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self.heartbeats: asyncio.Queue[int] = asyncio.Queue()
        self.join_errors: list[str] = []
        self.join_times: list[float] = []
        self.hold_system = False
        self.silent = False
        self.join_ref: str | None = None
        self.topic = ""
        self._release = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, port: int = 0) -> None:
        self.server = await serve(self._handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ scripted behaviour

    def release(self) -> None:
        self._release.set()

    def drop(self) -> None:
        """Cut the TCP connection without a close frame."""
        assert self.current is not None
        self.current.transport.abort()

    async def push(self, data: dict[str, Any], ids: list[int] | None = None) -> None:
        payload = {"ids": ids if ids is not None else [BINDING_IDS[0]], "data": data}
        await self._send(self.topic, "postgres_changes", payload)

    async def expire_token(self) -> None:
        error = {"extension": "system", "status": "error", "message": "Token has expired 1 seconds ago", "channel": "x"}
        await self._send(self.topic, "system", error)
        await self._send(self.topic, "phx_close", {}, ref=self.join_ref)

    async def next_frame(self, event: str) -> tuple[int, dict[str, Any]]:
        """The next frame the client sent with this event (heartbeats are counted apart)."""
        while True:
            conn, msg = await asyncio.wait_for(self.frames.get(), TIMEOUT_S)
            if msg["event"] == event:
                return conn, msg

    # ------------------------------------------------------------ protocol

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        conn = self.connections
        self.current = ws
        try:
            async for raw in ws:
                if self.silent:
                    continue
                msg = json.loads(raw)
                if msg["event"] == "heartbeat":
                    await ws.send(self._frame("phoenix", "phx_reply", {"status": "ok", "response": {}}, msg["ref"]))
                    self.heartbeats.put_nowait(conn)
                    continue
                self.frames.put_nowait((conn, msg))
                if msg["event"] == "phx_join":
                    await self._join(ws, msg)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _join(self, ws: ServerConnection, msg: dict[str, Any]) -> None:
        self.join_times.append(time.monotonic())
        if self.join_errors:
            reason = self.join_errors.pop(0)
            await ws.send(
                self._frame(msg["topic"], "phx_reply", {"status": "error", "response": {"reason": reason}}, msg["ref"])
            )
            return
        bindings = msg["payload"]["config"]["postgres_changes"]
        echoed = [{"id": i, **b} for i, b in zip(BINDING_IDS, bindings, strict=False)]
        self.topic, self.join_ref = msg["topic"], msg["ref"]
        await ws.send(
            self._frame(
                msg["topic"], "phx_reply", {"status": "ok", "response": {"postgres_changes": echoed}}, msg["ref"]
            )
        )
        if not self.hold_system:
            await ws.send(self._frame(msg["topic"], "system", SUBSCRIBED))
            return

        async def later() -> None:
            await self._release.wait()
            await ws.send(self._frame(msg["topic"], "system", SUBSCRIBED))

        task = asyncio.create_task(later())
        self._tasks.add(task)

    async def _send(self, topic: str, event: str, payload: dict[str, Any], ref: str | None = None) -> None:
        assert self.current is not None
        await self.current.send(self._frame(topic, event, payload, ref))

    @staticmethod
    def _frame(topic: str, event: str, payload: dict[str, Any], ref: str | None = None) -> str:
        return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref})
