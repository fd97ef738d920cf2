"""A small known kitchen for the `/rest/v1` tests: three orders in r1, one in r2, with fixed ids."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import auth_headers, token_for

T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def oid(tag: str) -> str:
    """A readable fixed UUID: oid("a1") → 00000000-0000-4000-8000-0000000000a1."""
    return str(uuid.UUID(f"00000000-0000-4000-8000-{tag.rjust(12, '0')}"))


A1, A2, A3, B1 = oid("a1"), oid("a2"), oid("a3"), oid("b1")
BURGER, FRIES, SALAD, STEAK, CAKE, B_BURGER = (oid(t) for t in ("11", "12", "21", "31", "32", "b11"))

R1_ORDERS: list[dict[str, Any]] = [
    {
        "id": A1,
        "number": "A1",
        "type": "dine_in",
        "table_label": "12",
        "guests": 2,
        "created_at": T0.isoformat(),
        "items": [
            {
                "id": BURGER,
                "name": "Burger",
                "category": "grill",
                "modifiers": ["no onions"],
                "allergens": ["gluten"],
            },
            {"id": FRIES, "name": "Fries", "category": "fryer"},
        ],
    },
    {
        "id": A2,
        "number": "A2",
        "type": "takeout",
        "customer_name": "Ana",
        "notes": "call on arrival",
        "created_at": (T0 + timedelta(minutes=5)).isoformat(),
        "items": [{"id": SALAD, "name": "Salad", "category": "salad", "held": True}],
    },
    {
        "id": A3,
        "number": "A3",
        "priority": "rush",
        "guests": 6,
        "created_at": (T0 + timedelta(minutes=10)).isoformat(),
        "items": [
            {"id": STEAK, "name": "Steak", "category": "steak"},
            {"id": CAKE, "name": "Cake", "category": "dessert", "course": 2},
        ],
    },
]
R2_ORDER: dict[str, Any] = {
    "id": B1,
    "number": "B1",
    "guests": 3,
    "created_at": (T0 + timedelta(minutes=1)).isoformat(),
    "items": [{"id": B_BURGER, "name": "Burger", "category": "grill"}],
}

R2_POS = auth_headers(token_for("pos", restaurant="r2"))
R2_KDS = auth_headers(token_for("kds", restaurant="r2"))
_device_seq = itertools.count(1)


async def post_order(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """An order through POS intake (`POST /api/v1/orders`), as a till would send it."""
    r = await client.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


async def seed(client: httpx.AsyncClient, pos_headers: dict[str, str]) -> None:
    for body in R1_ORDERS:
        await post_order(client, pos_headers, body)
    await post_order(client, R2_POS, R2_ORDER)


async def send_intents(
    client: httpx.AsyncClient, role: str, *intents: dict[str, Any], restaurant: str = "r1"
) -> list[dict[str, Any]]:
    """Apply intents as a kitchen device of `role` would, and check they were applied."""
    device = f"{restaurant}-{role}-1"
    headers = auth_headers(token_for(role, restaurant=restaurant, device=device))
    body = {
        "intents": [
            {"id": str(uuid.uuid4()), "device_id": device, "device_seq": next(_device_seq), **intent}
            for intent in intents
        ]
    }
    r = await client.post("/rest/v1/rpc/apply_intents", json=body, headers=headers)
    assert r.status_code == 200, r.text
    results = r.json()
    assert [res["status"] for res in results] == ["applied"] * len(intents), results
    return results


def numbers(response: httpx.Response) -> list[str]:
    assert response.status_code in (200, 206), response.text
    return [row["number"] for row in response.json()]
