"""Bad or hostile input gets a structured 4xx in PostgREST's shape, never a 500 or a 503, and stores nothing.

Issue 17, item 5: deeply nested JSON on REST writes; queries with 1,001 `or` terms, 1,200 filters, deep logic
trees or thousands of order terms; out-of-range timestamps, lone surrogates and NUL characters in POS intake
bodies and intent `args` (NUL is what PostgreSQL cannot store). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

Headers = dict[str, str]
JSON = {"Content-Type": "application/json"}
ORDER = {"number": "A17", "items": [{"name": "Burger", "category": "grill"}]}


def problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A 4xx in PostgREST's shape (`{code, message, details, hint}`)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert {"code", "message", "details", "hint"} <= set(body), body
    if code is not None:
        assert body["code"] == code, body
    return body


async def rows(client: httpx.AsyncClient, table: str, headers: Headers) -> list[dict[str, Any]]:
    r = await client.get(f"/rest/v1/{table}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def raw(body: Any) -> bytes:
    """JSON text as a client may send it: lone surrogates as `\\ud800` escapes, NUL as `\\u0000`."""
    return json.dumps(body).encode()


# ---------------------------------------------------------------- REST writes: nesting


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
async def test_deeply_nested_json_on_rest_writes_is_400(
    client: httpx.AsyncClient, pos_headers: Headers, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    for body in (nested, '{"number":"A1","notes":' + nested + "}", '[{"number":"A1","notes":' + nested + "}]"):
        problem(await client.post("/rest/v1/orders", content=body, headers={**pos_headers, **JSON}), 400)
    for body in (nested, '{"notes":' + nested + "}"):
        r = await client.patch("/rest/v1/orders?number=eq.A1", content=body, headers={**pos_headers, **JSON})
        problem(r, 400)
    assert await rows(client, "orders", pos_headers) == []


# ---------------------------------------------------------------- REST reads: query size


async def test_a_thousand_and_one_or_terms_is_a_400_not_database_unavailable(
    client: httpx.AsyncClient, pos_headers: Headers
) -> None:
    terms = ",".join(f"number.eq.{n}" for n in range(1001))
    body = problem(await client.get(f"/rest/v1/orders?or=({terms})", headers=pos_headers), 400, "54000")
    assert "1001" in body["message"]


async def test_twelve_hundred_filters_is_a_400(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    query = "&".join(f"number=neq.{n}" for n in range(1200))
    problem(await client.get(f"/rest/v1/orders?{query}", headers=pos_headers), 400, "54000")
    embedded = "&".join(f"order_items.name=neq.{n}" for n in range(1200))
    r = await client.get(f"/rest/v1/orders?select=*,order_items(*)&{embedded}", headers=pos_headers)
    problem(r, 400, "54000")
    # The same filters on a PATCH change nothing.
    r = await client.patch(f"/rest/v1/orders?{query}", json={"notes": "x"}, headers=pos_headers)
    problem(r, 400, "54000")


async def test_a_deep_logic_tree_is_a_400(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    depth = 3000
    tree = "(" + "and(" * depth + "number.eq.1" + ")" * depth + ")"
    problem(await client.get(f"/rest/v1/orders?or={tree}", headers=pos_headers), 400)


async def test_thousands_of_order_or_select_terms_are_a_400(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    problem(await client.get("/rest/v1/orders?order=" + ",".join(["id"] * 3000), headers=pos_headers), 400, "54000")
    select = ",".join(f"c{n}:id" for n in range(3000))
    problem(await client.get(f"/rest/v1/orders?select={select}", headers=pos_headers), 400, "54000")


async def test_queries_within_the_limits_still_work(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    terms = ",".join(f"number.eq.{n}" for n in range(100))
    r = await client.get(f"/rest/v1/orders?or=({terms})&order=created_at,id", headers=pos_headers)
    assert r.status_code == 200 and r.json() == []


# ---------------------------------------------------------------- POS intake


@pytest.mark.parametrize(
    "change",
    [
        {"created_at": "0001-01-01T00:00:00+01:00"},
        {"due_at": "9999-12-31T23:59:59-14:00"},
        {"number": "A\u0000"},
        {"notes": "nul\u0000byte"},
        {"items": [{"name": "Burger\u0000", "category": "grill"}]},
        {"items": [{"name": "Burger", "modifiers": ["no\u0000onions"]}]},
        {"items": [{"name": "Burger", "notes": "\ud800"}]},
        {"customer_name": "\udfff"},
    ],
    ids=[
        "created-before-year-1",
        "due-after-year-9999",
        "nul-number",
        "nul-notes",
        "nul-item",
        "nul-modifier",
        "surrogate-item-notes",
        "surrogate-customer",
    ],
)
async def test_intake_refuses_what_cannot_be_stored(
    client: httpx.AsyncClient, pos_headers: Headers, change: dict[str, Any]
) -> None:
    headers = {**pos_headers, **JSON, "Idempotency-Key": str(uuid.uuid4())}
    body = problem(await client.post("/api/v1/orders", content=raw({**ORDER, **change}), headers=headers), 422)
    assert body["code"] == "PGRST102" and body["details"], body
    assert await rows(client, "orders", pos_headers) == []
    # The key was not used up: the same key with a good body is a new order.
    r = await client.post("/api/v1/orders", content=raw(ORDER), headers=headers)
    assert r.status_code == 201, r.text


async def test_adding_items_refuses_what_cannot_be_stored(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post("/api/v1/orders", json=ORDER, headers={**pos_headers, "Idempotency-Key": "o1"})
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    for name in ("Fries\u0000", "Fries\ud800"):
        headers = {**pos_headers, **JSON, "Idempotency-Key": str(uuid.uuid4())}
        body = raw({"items": [{"name": name, "category": "fry"}]})
        problem(await client.post(f"/api/v1/orders/{order_id}/items", content=body, headers=headers), 422)
    assert [i["name"] for i in await rows(client, "order_items", pos_headers)] == ["Burger"]


async def test_station_routes_refuse_unprintable_categories(client: httpx.AsyncClient, admin_headers: Headers) -> None:
    for category in ("fry\u0000er", "fry\ud800"):
        headers = {**admin_headers, **JSON}
        r = await client.put("/api/v1/station-routes", content=raw({category: "fry"}), headers=headers)
        problem(r, 400, "KDS400")
    r = await client.get("/api/v1/station-routes", headers=admin_headers)
    assert r.json()["routes"] == {}


# ---------------------------------------------------------------- intents


def intent(seq: int, kind: str = "eighty_six", **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "device_id": "r1-kds-1", "device_seq": seq, "kind": kind, **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"args": {"item_name": "Fries\u0000"}},
        {"args": {"item_name": "Fries\ud800"}},
        {"args": {"item_name": "Fries", "reason": "out\u0000"}},
        {"args": {"item_name": "Fries", "note\u0000": "x"}},
        {"args": {"item_name": "Fries", "deep": json.loads("[" * 500 + "]" * 500)}},
        {"args": {"item_name": "Fries"}, "created_at": "0001-01-01T00:00:00+01:00"},
    ],
    ids=["nul", "surrogate", "nul-reason", "nul-key", "deep", "created-before-year-1"],
)
async def test_intents_with_unstorable_args_are_refused_whole(
    client: httpx.AsyncClient, kds_headers: Headers, fields: dict[str, Any]
) -> None:
    good = intent(1, args={"item_name": "Burger"})
    batch = {"intents": [good, intent(2, **fields)]}
    r = await client.post("/rest/v1/rpc/apply_intents", content=raw(batch), headers={**kds_headers, **JSON})
    assert problem(r, 422)["code"] == "PGRST102"
    assert await rows(client, "menu_availability", kds_headers) == []
    # Nothing was ledgered: the good intent applies when sent again on its own.
    r = await client.post("/rest/v1/rpc/apply_intents", json={"intents": [good]}, headers=kds_headers)
    assert [x["status"] for x in r.json()] == ["applied"], r.text
