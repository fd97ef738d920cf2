"""Live-server helpers: writes through the companion's own APIs, and waiting for realtime events."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from typing import Any

import httpx

from tests.conftest import auth_headers, token_for
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(15.0)


def order_body(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "table_label": "12",
        "items": [{"name": "Burger", "category": "grill"}, {"name": "Fries", "category": "fryer"}],
    }


async def create_order(http: httpx.AsyncClient, restaurant: str, number: str) -> dict[str, Any]:
    headers = {**auth_headers(token_for("pos", restaurant=restaurant)), "Idempotency-Key": str(uuid.uuid4())}
    r = await http.post("/api/v1/orders", json=order_body(number), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def past_the_second_of(issued_by: float) -> None:
    """Until the clock is in a later whole second than `issued_by` (a time taken once a sign-in was answered).
    Tokens carry whole seconds (`iat`, `exp`), so a refresh in the second the session's token was issued gets the
    very same access token back, and a test of a client pushing its new token to a channel would push nothing
    (seen when a machine ran a whole session's first steps inside one second). Time itself is what is awaited."""
    await asyncio.sleep(max(0.0, int(issued_by) + 1 - time.time()))  # to the next whole second: under 1 s


def start_intent(device_id: str, order_id: str, seq: int = 1) -> dict[str, Any]:
    """A device's intent to start an order, as `apply_intents` takes it."""
    return {"id": str(uuid.uuid4()), "device_id": device_id, "device_seq": seq, "kind": "start", "order_id": order_id}


async def start_order(http: httpx.AsyncClient, restaurant: str, order_id: str, seq: int = 1) -> None:
    device = f"{restaurant}-expo-1"
    intent = start_intent(device, order_id, seq)
    headers = auth_headers(token_for("expo", restaurant=restaurant, device=device))
    r = await http.post("/rest/v1/rpc/apply_intents", json={"intents": [intent]}, headers=headers)
    assert r.status_code == 200 and r.json()[0]["status"] == "applied", r.text


async def delete_order(http: httpx.AsyncClient, restaurant: str, order_id: str) -> None:
    headers = auth_headers(token_for("admin", restaurant=restaurant))
    r = await http.delete("/rest/v1/orders", params={"id": f"eq.{order_id}"}, headers=headers)
    assert r.status_code == 204, r.text


class Inbox:
    """A callback for the official clients that queues what it gets (their callbacks must not block or raise)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self, *args: Any) -> None:
        self.queue.put_nowait(args[0] if len(args) == 1 else args)

    async def next(self, timeout_s: float = TIMEOUT_S) -> Any:
        return await asyncio.wait_for(self.queue.get(), timeout_s)

    async def take(self, n: int, timeout_s: float = TIMEOUT_S) -> list[Any]:
        return [await self.next(timeout_s) for _ in range(n)]


class NodeSubscriber:
    """A Node script run under test: one JSON object per line on its stdout, queued by its `kind`; commands
    written to its stdin one per line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            event = json.loads(line)
            self.queues[event["kind"]].put_nowait(event)

    async def next(self, kind: str) -> dict[str, Any]:
        return await asyncio.wait_for(self.queues[kind].get(), TIMEOUT_S)

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
