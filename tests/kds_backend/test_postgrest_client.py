"""Supabase's own `postgrest` client against a real `kds-backend serve`: the dialect is right if it works.

Runs on SQLite and on PostgreSQL (the `live_server` fixture is parametrised like `client`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from postgrest import APIError, AsyncPostgrestClient

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.postgrest.seed import R1_ORDERS, R2_ORDER, STEAK
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


def _headers(role: str, restaurant: str = "r1") -> dict[str, str]:
    token = token_for(role, restaurant=restaurant, device=f"{restaurant}-{role}-1")
    return {"apikey": issue_anon_key(JWT_SECRET), "Authorization": f"Bearer {token}"}


async def _intake(url: str, body: dict[str, Any], restaurant: str = "r1") -> None:
    headers = {**_headers("pos", restaurant), "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text


@pytest.fixture
async def clients(live_server: LiveServer) -> AsyncIterator[dict[str, AsyncPostgrestClient]]:
    """One official client per device role, plus a POS of restaurant r2."""
    opened = {
        name: AsyncPostgrestClient(f"{live_server.url}/rest/v1", headers=_headers(role, restaurant))
        for name, role, restaurant in (
            ("pos", "pos", "r1"),
            ("kds", "kds", "r1"),
            ("expo", "expo", "r1"),
            ("r2", "pos", "r2"),
        )
    }
    try:
        yield opened
    finally:
        for client in opened.values():
            await client.aclose()


@pytest.fixture
async def seeded(live_server: LiveServer, clients: dict[str, AsyncPostgrestClient]) -> dict[str, AsyncPostgrestClient]:
    for body in R1_ORDERS:
        await _intake(live_server.url, body)
    await _intake(live_server.url, R2_ORDER, "r2")
    return clients


async def test_insert_then_read_with_embedding_filters_order_and_limit(
    clients: dict[str, AsyncPostgrestClient],
) -> None:
    pos = clients["pos"]
    orders = (
        await pos.table("orders")
        .insert(
            [
                {"number": "W1", "source": "online", "type": "pickup", "customer_name": "Lee, Ann"},
                {"number": "W2", "guests": 4},
                {"number": "W3", "priority": "rush"},
            ]
        )
        .execute()
    )
    assert [o["number"] for o in orders.data] == ["W1", "W2", "W3"]
    assert all(o["restaurant_id"] == "r1" and o["version"] == 1 and o["status"] == "new" for o in orders.data)
    w1, w2, w3 = (o["id"] for o in orders.data)

    items = (
        await pos.table("order_items")
        .insert(
            [
                {"order_id": w1, "name": "Wrap", "station": "cold", "modifiers": ["no sauce"]},
                {"order_id": w1, "name": "Soda", "station": "bar", "quantity": 2},
                {"order_id": w2, "name": "Burger", "station": "grill"},
            ]
        )
        .execute()
    )
    assert [(i["name"], i["changed_after_send"]) for i in items.data] == [
        ("Wrap", False),
        ("Soda", False),
        ("Burger", False),
    ]

    result = (
        await pos.table("orders")
        .select("id, number, customer_name, order_items(name, quantity)")
        .eq("restaurant_id", "r1")
        .in_("customer_name", ["Lee, Ann", "Nobody"])
        .order("number", desc=True)
        .limit(5)
        .execute()
    )
    assert result.data == [
        {
            "id": w1,
            "number": "W1",
            "customer_name": "Lee, Ann",
            "order_items": [{"name": "Wrap", "quantity": 1}, {"name": "Soda", "quantity": 2}],
        }
    ]

    page = await pos.table("orders").select("number", count="exact").order("number").range(1, 2).execute()
    assert [o["number"] for o in page.data] == ["W2", "W3"] and page.count == 3

    rush = await pos.table("orders").select("number").neq("priority", "normal").execute()
    assert rush.data == [{"number": "W3"}]
    no_guests = await pos.table("orders").select("number").is_("guests", None).order("number").execute()
    assert [o["number"] for o in no_guests.data] == ["W1", "W3"]
    with_guests = await pos.table("orders").select("number").not_.is_("guests", None).execute()
    assert with_guests.data == [{"number": "W2"}]
    assert w3 not in {o["id"] for o in (await pos.table("orders").select("id").gte("guests", 4).execute()).data}


async def test_single_and_errors(seeded: dict[str, AsyncPostgrestClient]) -> None:
    pos = seeded["pos"]
    one = await pos.table("orders").select("number, order_items(name)").eq("number", "A3").single().execute()
    assert one.data == {"number": "A3", "order_items": [{"name": "Steak"}, {"name": "Cake"}]}

    with pytest.raises(APIError) as none:
        await pos.table("orders").select("*").eq("number", "B1").single().execute()  # r2's order: invisible
    assert none.value.code == "PGRST116"

    with pytest.raises(APIError) as table:
        await pos.table("customers").select("*").execute()
    assert table.value.code == "PGRST205"

    with pytest.raises(APIError) as column:
        await pos.table("orders").select("colour").execute()
    assert column.value.code == "42703"

    with pytest.raises(APIError) as role:
        await seeded["kds"].table("orders").insert({"number": "K1"}).execute()
    assert role.value.code == "42501"

    with pytest.raises(APIError) as other:
        await pos.table("orders").insert({"number": "X1", "restaurant_id": "r2"}).execute()
    assert other.value.code == "42501" and "row-level security" in (other.value.message or "")


async def test_embedded_filters_order_and_limit_through_the_client(seeded: dict[str, AsyncPostgrestClient]) -> None:
    kds = seeded["kds"]
    grill = (
        await kds.table("orders")
        .select("number, order_items(name, station)")
        .eq("order_items.station", "grill")
        .order("number")
        .execute()
    )
    assert [(o["number"], [i["name"] for i in o["order_items"]]) for o in grill.data] == [
        ("A1", ["Burger"]),
        ("A2", []),
        ("A3", ["Steak"]),
    ]
    last_item = (
        await kds.table("orders")
        .select("number, order_items(name)")
        .eq("number", "A1")
        .order("name", desc=True, foreign_table="order_items")
        .limit(1, foreign_table="order_items")
        .execute()
    )
    assert last_item.data == [{"number": "A1", "order_items": [{"name": "Fries"}]}]
    either = (
        await kds.table("orders").select("number").or_("guests.gt.4,customer_name.eq.Ana").order("number").execute()
    )
    assert [o["number"] for o in either.data] == ["A2", "A3"]


async def test_update_through_the_client(seeded: dict[str, AsyncPostgrestClient]) -> None:
    pos = seeded["pos"]
    voided = await pos.table("order_items").update({"status": "voided"}).eq("id", STEAK).execute()
    (steak,) = voided.data
    assert steak["status"] == "voided" and steak["version"] == 2 and steak["changed_after_send"] is True

    with pytest.raises(APIError) as unfiltered:
        await pos.table("orders").update({"notes": "all"}).execute()
    assert unfiltered.value.code == "21000"

    untouched = await seeded["r2"].table("orders").select("notes, version").single().execute()
    assert untouched.data == {"notes": None, "version": 1}


async def test_rpc_apply_intents_and_read_back(seeded: dict[str, AsyncPostgrestClient]) -> None:
    kds = seeded["kds"]
    a1 = await kds.table("orders").select("id, order_items(id, name)").eq("number", "A1").single().execute()
    burger = next(i["id"] for i in a1.data["order_items"] if i["name"] == "Burger")
    intents = [
        {"id": str(uuid.uuid4()), "device_id": "r1-kds-1", "device_seq": 1, "kind": "start", "order_id": a1.data["id"]},
        {
            "id": str(uuid.uuid4()),
            "device_id": "r1-kds-1",
            "device_seq": 2,
            "kind": "bump_item",
            "order_id": a1.data["id"],
            "item_id": burger,
        },
    ]
    applied = await kds.rpc("apply_intents", {"intents": intents}).execute()
    assert [r["status"] for r in applied.data] == ["applied", "applied"]
    assert applied.data[-1]["order"]["status"] == "in_progress"

    replay = await kds.rpc("apply_intents", {"intents": intents[:1]}).execute()
    assert replay.data[0]["status"] == "duplicate"

    after = (
        await seeded["expo"]
        .table("order_items")
        .select("name, status, orders(status)")
        .eq("order_id", a1.data["id"])
        .order("name")
        .execute()
    )
    assert after.data == [
        {"name": "Burger", "status": "done", "orders": {"status": "in_progress"}},
        {"name": "Fries", "status": "cooking", "orders": {"status": "in_progress"}},
    ]

    with pytest.raises(APIError) as refused:
        await seeded["pos"].rpc("apply_intents", {"intents": intents}).execute()
    assert refused.value.code == "42501"


async def test_the_pos_reads_the_86_list_with_the_official_client(clients: dict[str, AsyncPostgrestClient]) -> None:
    """What a POS polls to hide sold-out items: `GET /rest/v1/menu_availability?available=eq.false`."""

    def eighty_six(seq: int, name: str, available: bool = False) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "device_id": "r1-kds-1", "device_seq": seq, "kind": "eighty_six",
                "args": {"item_name": name, "available": available}}

    intents = [eighty_six(1, "Calamari"), eighty_six(2, "Burrata"), eighty_six(3, "burrata", available=True)]
    applied = await clients["kds"].rpc("apply_intents", {"intents": intents}).execute()
    assert [r["status"] for r in applied.data] == ["applied", "applied", "applied"]

    out = (
        await clients["pos"].table("menu_availability").select("item_name, available, updated_by")
        .eq("available", False).order("item_name").execute()
    )
    assert out.data == [{"item_name": "Calamari", "available": False, "updated_by": "r1-kds-1"}]
    every = await clients["pos"].table("menu_availability").select("item_name, available").order("item_name").execute()
    assert every.data == [{"item_name": "Burrata", "available": True}, {"item_name": "Calamari", "available": False}]
    # Another restaurant's POS sees none of it, and a POS cannot 86 by writing the table.
    assert (await clients["r2"].table("menu_availability").select("*").execute()).data == []
    with pytest.raises(APIError):
        await clients["pos"].table("menu_availability").insert({"item_name": "Oysters", "available": False}).execute()
