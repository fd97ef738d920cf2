"""POS intake: `POST /api/v1/orders` with idempotency, routing, validation and roles."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import auth_headers, token_for
from tests.helpers.pos import EXAMPLE


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_example_order_is_accepted_and_routed(client: httpx.AsyncClient, pos_headers: dict) -> None:
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers={**pos_headers, **key()})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["number"] == "A17" and order["restaurant_id"] == "r1"
    assert order["status"] == "new" and order["version"] == 1
    stations = {i["name"]: i["station"] for i in order["order_items"]}
    assert stations == {"Burger": "grill", "Fries": "fry"}
    burger = next(i for i in order["order_items"] if i["name"] == "Burger")
    assert burger["modifiers"] == ["no onions"] and burger["allergens"] == ["gluten"]
    assert burger["quantity"] == 2 and burger["notes"] == "well done"
    seqs = [order["change_seq"], *(i["change_seq"] for i in order["order_items"])]
    assert len(set(seqs)) == 3


async def test_replay_with_same_key_returns_same_response_and_stores_once(
    client: httpx.AsyncClient, pos_headers: dict, kds_headers: dict
) -> None:
    headers = {**pos_headers, **key()}
    first = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
    again = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    listed = await client.get("/rest/v1/orders", params={"number": "eq.A17"}, headers=kds_headers)
    assert listed.status_code == 200 and len(listed.json()) == 1


async def test_same_key_different_body_is_a_conflict(client: httpx.AsyncClient, pos_headers: dict) -> None:
    headers = {**pos_headers, **key()}
    assert (await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)).status_code == 201
    changed = {**EXAMPLE, "number": "A18"}
    r = await client.post("/api/v1/orders", json=changed, headers=headers)
    assert r.status_code == 409
    assert set(r.json()) >= {"code", "message", "details", "hint"}


async def test_missing_key_is_rejected(client: httpx.AsyncClient, pos_headers: dict) -> None:
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers=pos_headers)
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()["message"]


async def test_validation_errors_name_the_field_and_store_nothing(client: httpx.AsyncClient, pos_headers: dict) -> None:
    bad = {**EXAMPLE, "items": [{"name": "Burger", "quantity": 0}]}
    r = await client.post("/api/v1/orders", json=bad, headers={**pos_headers, **key()})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert any(d["loc"][-1] == "quantity" for d in detail)


async def test_kds_token_cannot_create_orders(client: httpx.AsyncClient, kds_headers: dict) -> None:
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers={**kds_headers, **key()})
    assert r.status_code == 403


async def test_expired_and_forged_tokens_are_401(client: httpx.AsyncClient) -> None:
    expired = auth_headers(token_for("pos", ttl_s=-10))
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers={**expired, **key()})
    assert r.status_code == 401 and "expired" in r.json()["message"]
    forged = auth_headers(token_for("pos", secret="another-secret-another-secret-another-secret"))
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers={**forged, **key()})
    assert r.status_code == 401


async def test_a_body_that_is_not_json_gets_postgrests_400(client: httpx.AsyncClient, pos_headers: dict) -> None:
    for raw in (b"\x00", b"{not json", b""):
        r = await client.post(
            "/api/v1/orders", content=raw, headers={**pos_headers, **key(), "Content-Type": "application/json"}
        )
        assert r.status_code in (400, 422), raw
        if raw:
            assert r.status_code == 400 and r.json()["code"] == "PGRST102", raw
