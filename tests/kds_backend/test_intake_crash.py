"""An order the companion answered 201 for is never lost, even if `kill -9` hits it mid-group.

A real `kds-backend serve` (SQLite and PostgreSQL) takes orders from many concurrent POS clients, so they
are group-committed; once enough answers are in, the process is killed with SIGKILL while requests are
still in flight. After a restart on the same database, every acknowledged order is there with its items,
and a retry of any request (same Idempotency-Key) gets the stored answer instead of a second order.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

TIMEOUT_S = scaled(60.0)
CLIENTS = 24
KILL_AFTER = 150


def body(n: int) -> dict[str, Any]:
    return {"number": f"K{n}", "items": [{"name": "Soup", "station": "grill"}, {"name": "Pie", "station": "pastry"}]}


async def test_no_acknowledged_order_is_lost_to_a_kill_9(live_server: LiveServer) -> None:
    headers = auth_headers(token_for("pos", device="r1-pos-1"))
    acked: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> the 201 body
    sent: dict[str, int] = {}  # every key a request went out with -> its order number
    enough = asyncio.Event()
    counter = iter(range(1_000_000))

    async def pos(client: httpx.AsyncClient) -> None:
        for n in counter:
            key = str(uuid.uuid4())
            sent[key] = n
            try:
                r = await client.post("/api/v1/orders", json=body(n), headers={**headers, "Idempotency-Key": key})
            except httpx.TransportError:
                return  # the server is gone: this request's fate is unknown, which is allowed
            assert r.status_code == 201, r.text
            acked[key] = r.json()
            if len(acked) >= KILL_AFTER:
                enough.set()

    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=TIMEOUT_S) as client:
        clients = [asyncio.create_task(pos(client)) for _ in range(CLIENTS)]
        await asyncio.wait_for(enough.wait(), TIMEOUT_S)
        live_server.kill()
        await asyncio.wait_for(asyncio.gather(*clients), TIMEOUT_S)
    assert len(sent) > len(acked), "requests were still in flight at the kill"

    restarted = live_server.restarted()
    try:
        await asyncio.to_thread(restarted.wait_ready)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=TIMEOUT_S) as client:
            r = await client.get(
                "/rest/v1/orders", params={"select": "id,number,order_items(id)", "limit": "100000"}, headers=headers
            )
            assert r.status_code == 200, r.text
            stored = {o["id"]: o for o in r.json()}
            for answer in acked.values():
                assert answer["id"] in stored, f"acknowledged order {answer['number']} was lost"
                assert len(stored[answer["id"]]["order_items"]) == 2
            # Every request again, with its key: an acknowledged one is replayed, never stored twice.
            for key, n in list(sent.items())[:300]:
                again = await client.post("/api/v1/orders", json=body(n), headers={**headers, "Idempotency-Key": key})
                assert again.status_code == 201, again.text
                if key in acked:
                    assert again.headers.get("Idempotent-Replayed") == "true"
                    assert again.json() == acked[key]
            r = await client.get("/rest/v1/orders", params={"select": "number", "limit": "100000"}, headers=headers)
            numbers = [o["number"] for o in r.json()]
            assert len(numbers) == len(set(numbers)), "no order stored twice"
    finally:
        restarted.stop()
