"""Live-server helpers: writes through the companion's own APIs, and waiting for realtime events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.conftest import auth_headers, token_for

TIMEOUT_S = 15.0


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


async def start_order(http: httpx.AsyncClient, restaurant: str, order_id: str, seq: int = 1) -> None:
    device = f"{restaurant}-expo-1"
    intent = {"id": str(uuid.uuid4()), "device_id": device, "device_seq": seq, "kind": "start", "order_id": order_id}
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
