"""`/rest/v1/<table>`: the PostgREST dialect over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from api_client.models import OrderItemPublic
from tests.conftest import auth_headers, token_for
from tests.kds_backend.postgrest.seed import (
    A1,
    A2,
    A3,
    B1,
    B_BURGER,
    BURGER,
    CAKE,
    FRIES,
    R2_KDS,
    R2_POS,
    STEAK,
    numbers,
    post_order,
    seed,
    send_intents,
)

OBJECT = {"Accept": "application/vnd.pgrst.object+json"}
REPRESENTATION = {"Prefer": "return=representation"}
Headers = dict[str, str]


@pytest.fixture
async def seeded(client: httpx.AsyncClient, pos_headers: Headers) -> httpx.AsyncClient:
    await seed(client, pos_headers)
    return client


async def get(client: httpx.AsyncClient, table: str, headers: Headers, **params: str) -> httpx.Response:
    return await client.get(f"/rest/v1/{table}", params=params, headers=headers)


async def row(client: httpx.AsyncClient, table: str, row_id: str, headers: Headers) -> dict[str, Any]:
    r = await get(client, table, {**headers, **OBJECT}, id=f"eq.{row_id}")
    assert r.status_code == 200, r.text
    return r.json()


def error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert {"code", "message", "details", "hint"} <= set(body)
    return body


# ---------------------------------------------------------------- reads


async def test_reads_all_rows_oldest_first_with_content_range(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(seeded, "orders", kds_headers)
    assert numbers(r) == ["A1", "A2", "A3"]
    assert r.status_code == 200 and r.headers["content-range"] == "0-2/*"
    first = r.json()[0]
    assert first["id"] == A1 and first["restaurant_id"] == "r1" and first["version"] == 1
    assert first["created_at"].startswith("2026-11-21T18:00:00")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"number": "eq.A1"}, ["A1"]),
        ({"number": "neq.A1"}, ["A2", "A3"]),
        ({"guests": "gt.2"}, ["A3"]),
        ({"guests": "gte.2"}, ["A1", "A3"]),
        ({"guests": "lt.6"}, ["A1"]),
        ({"guests": "lte.6"}, ["A1", "A3"]),
        ({"number": "in.(A1,A3,ZZ)"}, ["A1", "A3"]),
        ({"number": "in.()"}, []),
        ({"guests": "is.null"}, ["A2"]),
        ({"guests": "not.is.null"}, ["A1", "A3"]),
        ({"priority": "not.eq.rush"}, ["A1", "A2"]),
        ({"number": "not.in.(A1,A2)"}, ["A3"]),
        ({"customer_name": "ilike.*AN*"}, ["A2"]),
        ({"id": f"eq.{A2}"}, ["A2"]),
        ({"id": f"in.({A1},{A3})"}, ["A1", "A3"]),
        ({"created_at": "gt.2026-11-21T18:00:00Z"}, ["A2", "A3"]),
        ({"created_at": "lte.2026-11-21T20:05:00+02:00"}, ["A1", "A2"]),
        ({"or": "(guests.gt.4,customer_name.eq.Ana)"}, ["A2", "A3"]),
        ({"or": "(number.eq.A1,and(priority.eq.rush,guests.eq.6))"}, ["A1", "A3"]),
        ({"not.or": "(number.eq.A1,number.eq.A2)"}, ["A3"]),
    ],
)
async def test_each_filter(
    seeded: httpx.AsyncClient, kds_headers: Headers, params: dict[str, str], expected: list[str]
) -> None:
    assert numbers(await get(seeded, "orders", kds_headers, **params)) == expected


async def test_boolean_and_uuid_filters_on_items(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    held = await get(seeded, "order_items", kds_headers, held="is.true", select="name")
    assert held.json() == [{"name": "Salad"}]
    not_held = await get(seeded, "order_items", kds_headers, held="eq.false", order_id=f"eq.{A1}", select="name")
    assert not_held.json() == [{"name": "Burger"}, {"name": "Fries"}]


async def test_two_filters_on_one_column_both_apply(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await seeded.get("/rest/v1/orders?guests=gt.1&guests=lt.5", headers=kds_headers)
    assert numbers(r) == ["A1"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("guests.asc", ["A1", "A3", "A2"]),  # nulls last ascending, as PostgreSQL
        ("guests.desc", ["A2", "A3", "A1"]),  # nulls first descending
        ("guests.asc.nullsfirst", ["A2", "A1", "A3"]),
        ("guests.desc.nullslast", ["A3", "A1", "A2"]),
        ("priority.asc,number.desc", ["A2", "A1", "A3"]),
        ("created_at.desc", ["A3", "A2", "A1"]),
    ],
)
async def test_order(seeded: httpx.AsyncClient, kds_headers: Headers, order: str, expected: list[str]) -> None:
    assert numbers(await get(seeded, "orders", kds_headers, order=order)) == expected


async def test_limit_offset_and_counts(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    page = await get(seeded, "orders", kds_headers, order="number", limit="2", offset="1")
    assert numbers(page) == ["A2", "A3"]
    assert page.status_code == 200 and page.headers["content-range"] == "1-2/*"

    counted = await get(seeded, "orders", {**kds_headers, "Prefer": "count=exact"}, order="number", limit="2")
    assert numbers(counted) == ["A1", "A2"]
    assert counted.status_code == 206 and counted.headers["content-range"] == "0-1/3"

    whole = await get(seeded, "orders", {**kds_headers, "Prefer": "count=exact"})
    assert whole.status_code == 200 and whole.headers["content-range"] == "0-2/3"

    empty = await get(seeded, "orders", {**kds_headers, "Prefer": "count=exact"}, number="eq.nope")
    assert empty.json() == [] and empty.headers["content-range"] == "*/0"
    uncounted = await get(seeded, "orders", kds_headers, number="eq.nope")
    assert uncounted.headers["content-range"] == "*/*"

    beyond = await get(seeded, "orders", {**kds_headers, "Prefer": "count=exact"}, offset="7")
    assert error(beyond, 416, "PGRST103")["details"] == "An offset of 7 was requested, but there are only 3 rows."


async def test_head_gives_the_count_without_a_body(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await seeded.head("/rest/v1/orders", headers={**kds_headers, "Prefer": "count=exact"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-range"] == "0-2/3"


async def test_select_columns_and_aliases(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(seeded, "orders", kds_headers, select="num:number,guests", number="eq.A1")
    assert r.json() == [{"num": "A1", "guests": 2}]


async def test_embedded_items_in_write_order(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(seeded, "orders", kds_headers, select="number,order_items(name,station,modifiers)", number="eq.A1")
    assert r.json() == [
        {
            "number": "A1",
            "order_items": [
                {"name": "Burger", "station": "grill", "modifiers": ["no onions"]},
                {"name": "Fries", "station": "fry", "modifiers": []},
            ],
        }
    ]
    star = await get(seeded, "orders", kds_headers, select="*,order_items(*)", number="eq.A3")
    (order,) = star.json()
    assert order["priority"] == "rush"
    assert [i["id"] for i in order["order_items"]] == [STEAK, CAKE]
    assert set(order["order_items"][0]) == set(OrderItemPublic.model_fields)
    assert all(i["order_id"] == A3 for i in order["order_items"])


async def test_embedded_filter_filters_items_not_orders(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(
        seeded, "orders", kds_headers, select="number,order_items(name)", **{"order_items.station": "eq.grill"}
    )
    assert r.json() == [
        {"number": "A1", "order_items": [{"name": "Burger"}]},
        {"number": "A2", "order_items": []},
        {"number": "A3", "order_items": [{"name": "Steak"}]},
    ]


async def test_inner_embed_filters_orders(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(
        seeded,
        "orders",
        kds_headers,
        select="number,items:order_items!inner(name)",
        **{"items.station": "in.(cold,pastry)", "items.order": "name.desc"},
    )
    assert r.json() == [
        {"number": "A2", "items": [{"name": "Salad"}]},
        {"number": "A3", "items": [{"name": "Cake"}]},
    ]


async def test_embedded_limit_is_per_order(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(
        seeded, "orders", kds_headers, select="number,order_items(name)", **{"order_items.limit": "1"}, order="number"
    )
    assert [len(o["order_items"]) for o in r.json()] == [1, 1, 1]


async def test_items_embed_their_order_as_an_object(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    r = await get(seeded, "order_items", kds_headers, select="name,orders(number,priority)", id=f"eq.{STEAK}")
    assert r.json() == [{"name": "Steak", "orders": {"number": "A3", "priority": "rush"}}]


async def test_single_object_accept(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    one = await get(seeded, "orders", {**kds_headers, **OBJECT}, number="eq.A2")
    assert one.status_code == 200 and one.json()["id"] == A2
    assert one.headers["content-type"].startswith("application/vnd.pgrst.object+json")

    none = await get(seeded, "orders", {**kds_headers, **OBJECT}, number="eq.nope")
    body = error(none, 406, "PGRST116")
    assert body["message"] == "JSON object requested, multiple (or no) rows returned"
    assert body["details"] == "The result contains 0 rows"

    many = await get(seeded, "orders", {**kds_headers, **OBJECT})
    assert error(many, 406, "PGRST116")["details"] == "The result contains 3 rows"


async def test_menu_availability_is_readable(seeded: httpx.AsyncClient, expo_headers: Headers) -> None:
    await send_intents(seeded, "kds", {"kind": "eighty_six", "args": {"item_name": "Salad", "reason": "no lettuce"}})
    r = await get(seeded, "menu_availability", expo_headers, available="is.false", select="item_name,reason")
    assert r.json() == [{"item_name": "Salad", "reason": "no lettuce"}]


# ---------------------------------------------------------------- read errors


async def test_unknown_table_is_404(client: httpx.AsyncClient, kds_headers: Headers) -> None:
    body = error(await get(client, "customers", kds_headers), 404, "PGRST205")
    assert body["message"] == "Could not find the table 'public.customers' in the schema cache"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"colour": "eq.red"}, "42703"),
        ({"select": "id,colour"}, "42703"),
        ({"order": "colour"}, "42703"),
        ({"number": "like.A*"}, "PGRST100"),
        ({"number": "A1"}, "PGRST100"),
        ({"limit": "many"}, "PGRST100"),
        ({"id": "eq.not-a-uuid"}, "22P02"),
        ({"guests": "gt.two"}, "22P02"),
        ({"created_at": "gt.yesterday"}, "22P02"),
        ({"select": "*,customers(*)"}, "PGRST200"),
        ({"order_items.station": "eq.grill"}, "PGRST108"),
    ],
)
async def test_bad_queries_are_400(
    client: httpx.AsyncClient, kds_headers: Headers, params: dict[str, str], code: str
) -> None:
    error(await get(client, "orders", kds_headers, **params), 400, code)


async def test_bad_uuid_message_names_the_value(client: httpx.AsyncClient, kds_headers: Headers) -> None:
    body = error(await get(client, "orders", kds_headers, id="eq.abc"), 400, "22P02")
    assert body["message"] == 'invalid input syntax for type uuid: "abc"'


async def test_missing_api_key_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/orders", headers={"Authorization": f"Bearer {token_for('kds')}"})
    assert error(r, 401, "PGRST301")["message"] == "No API key found in request"


async def test_expired_and_forged_tokens_are_401(client: httpx.AsyncClient) -> None:
    expired = await get(client, "orders", auth_headers(token_for("kds", ttl_s=-10)))
    assert "expired" in error(expired, 401, "PGRST303")["message"]
    forged = auth_headers(token_for("kds", secret="another-secret-another-secret-another-secret"))
    assert (await get(client, "orders", forged)).status_code == 401


async def test_other_schema_and_media_types_are_refused(client: httpx.AsyncClient, kds_headers: Headers) -> None:
    error(await get(client, "orders", {**kds_headers, "Accept-Profile": "private"}), 406, "PGRST106")
    error(await get(client, "orders", {**kds_headers, "Accept": "text/csv"}), 406, "PGRST107")


# ---------------------------------------------------------------- tenant isolation


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"restaurant_id": "eq.r2"},
        {"restaurant_id": "neq.r1"},
        {"or": "(restaurant_id.eq.r2,restaurant_id.eq.r1)"},
        {"id": f"eq.{B1}"},
        {"number": "eq.B1"},
        {"not.and": "(restaurant_id.eq.r1)"},
    ],
)
async def test_another_restaurants_orders_are_never_visible(
    seeded: httpx.AsyncClient, kds_headers: Headers, params: dict[str, str]
) -> None:
    r = await get(seeded, "orders", {**kds_headers, "Prefer": "count=exact"}, **params, select="*,order_items(*)")
    assert B1 not in {o["id"] for o in r.json()}
    assert all(o["restaurant_id"] == "r1" for o in r.json())
    assert all(i["restaurant_id"] == "r1" for o in r.json() for i in o["order_items"])
    assert r.headers["content-range"].endswith(f"/{len(r.json())}")


async def test_another_restaurants_items_are_never_visible(seeded: httpx.AsyncClient, kds_headers: Headers) -> None:
    for params in ({"order_id": f"eq.{B1}"}, {"id": f"eq.{B_BURGER}"}, {"restaurant_id": "eq.r2"}):
        assert (await get(seeded, "order_items", kds_headers, **params)).json() == []
    mine = await get(seeded, "order_items", kds_headers, name="eq.Burger", select="id,orders(number)")
    assert mine.json() == [{"id": BURGER, "orders": {"number": "A1"}}]


async def test_each_restaurant_sees_its_own(seeded: httpx.AsyncClient) -> None:
    assert numbers(await get(seeded, "orders", R2_KDS)) == ["B1"]


async def test_another_restaurants_rows_cannot_be_changed(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await seeded.patch(
        "/rest/v1/orders",
        params={"id": f"eq.{B1}"},
        json={"notes": "mine now"},
        headers={**pos_headers, **REPRESENTATION},
    )
    assert r.status_code == 200 and r.json() == []
    r = await seeded.patch(
        "/rest/v1/order_items", params={"order_id": f"eq.{B1}"}, json={"status": "voided"}, headers=pos_headers
    )
    assert r.status_code == 204
    b1 = await row(seeded, "orders", B1, R2_POS)
    assert b1["notes"] is None and b1["version"] == 1
    assert (await row(seeded, "order_items", B_BURGER, R2_POS))["status"] == "new"


# ---------------------------------------------------------------- inserts


NEW_ORDER = {"number": "W1", "source": "online", "type": "pickup", "customer_name": "Kim"}


async def test_insert_minimal_is_201_without_body(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post("/rest/v1/orders", json=NEW_ORDER, headers=pos_headers)
    assert r.status_code == 201 and r.content == b""
    stored = await get(client, "orders", pos_headers, number="eq.W1")
    (order,) = stored.json()
    assert order["restaurant_id"] == "r1" and order["status"] == "new" and order["source"] == "online"
    assert order["version"] == 1 and order["change_seq"] > 0


async def test_insert_with_representation(client: httpx.AsyncClient, admin_headers: Headers) -> None:
    order_id = str(uuid.uuid4())
    r = await client.post(
        "/rest/v1/orders",
        params={"select": "id,number,status,version"},
        json={**NEW_ORDER, "id": order_id, "restaurant_id": "r1"},
        headers={**admin_headers, **REPRESENTATION},
    )
    assert r.status_code == 201
    assert r.json() == [{"id": order_id, "number": "W1", "status": "new", "version": 1}]


async def test_insert_array_answers_in_body_order(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    body = [
        {**NEW_ORDER, "number": "W2", "created_at": "2026-11-21T19:00:00Z"},
        {**NEW_ORDER, "number": "W1", "created_at": "2026-11-21T18:00:00Z"},
    ]
    r = await client.post("/rest/v1/orders", json=body, headers={**pos_headers, **REPRESENTATION})
    assert [o["number"] for o in r.json()] == ["W2", "W1"]
    assert len({o["change_seq"] for o in r.json()}) == 2


async def test_insert_object_accept(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post("/rest/v1/orders", json=NEW_ORDER, headers={**pos_headers, **REPRESENTATION, **OBJECT})
    assert r.status_code == 201 and r.json()["number"] == "W1"
    two = [NEW_ORDER, {**NEW_ORDER, "number": "W2"}]
    refused = await client.post("/rest/v1/orders", json=two, headers={**pos_headers, **REPRESENTATION, **OBJECT})
    assert error(refused, 406, "PGRST116")["details"] == "The result contains 2 rows"
    assert numbers(await get(client, "orders", pos_headers)) == ["W1"]  # the two were not stored


@pytest.mark.parametrize("role", ["kds", "expo"])
async def test_kitchen_devices_cannot_insert(client: httpx.AsyncClient, role: str) -> None:
    r = await client.post("/rest/v1/orders", json=NEW_ORDER, headers=auth_headers(token_for(role)))
    error(r, 403, "42501")


async def test_insert_for_another_restaurant_violates_rls(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post("/rest/v1/orders", json={**NEW_ORDER, "restaurant_id": "r2"}, headers=pos_headers)
    assert error(r, 403, "42501")["message"] == 'new row violates row-level security policy for table "orders"'
    assert (await get(client, "orders", R2_POS)).json() == []


async def test_duplicate_id_is_23505(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await seeded.post("/rest/v1/orders", json={**NEW_ORDER, "id": A1}, headers=pos_headers)
    body = error(r, 409, "23505")
    assert body["message"] == 'duplicate key value violates unique constraint "orders_pkey"'
    assert body["details"] == f"Key (id)=({A1}) already exists."
    # An id taken in another restaurant is taken: ids are global, as primary keys are.
    error(await seeded.post("/rest/v1/orders", json={**NEW_ORDER, "id": B1}, headers=pos_headers), 409, "23505")


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"colour": "red"}, 400, "PGRST204"),
        ({"order_items": []}, 400, "PGRST204"),
        ({"version": 7}, 403, "42501"),
        ({"change_seq": 1}, 403, "42501"),
        ({"guests": -1}, 400, "PGRST102"),
        ({"status": "ready"}, 400, "PGRST102"),
        ({"created_at": "2026-11-21T18:00:00"}, 400, "PGRST102"),
    ],
)
async def test_insert_body_errors(
    client: httpx.AsyncClient, pos_headers: Headers, extra: dict[str, Any], status: int, code: str
) -> None:
    r = await client.post("/rest/v1/orders", json={**NEW_ORDER, **extra}, headers=pos_headers)
    error(r, status, code)
    assert (await get(client, "orders", pos_headers)).json() == []


async def test_unknown_column_message_and_validation_detail(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post("/rest/v1/orders", json={**NEW_ORDER, "colour": "red"}, headers=pos_headers)
    assert r.json()["message"] == "Could not find the 'colour' column of 'orders' in the schema cache"
    bad = [NEW_ORDER, {**NEW_ORDER, "guests": -1}]
    r = await client.post("/rest/v1/orders", json=bad, headers=pos_headers)
    body = error(r, 400, "PGRST102")
    assert body["detail"][0]["loc"] == ["1", "guests"]
    assert body["details"].startswith("1.guests: ")


async def test_invalid_json_is_pgrst102(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await client.post(
        "/rest/v1/orders", content=b"{not json", headers={**pos_headers, "Content-Type": "application/json"}
    )
    assert error(r, 400, "PGRST102")["message"] == "Empty or invalid json"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"notes": "nul\u0000byte"}, "22021"),
        ({"notes": "\ud800"}, "22021"),
        ({"due_at": "0001-01-01T00:30:00+01:00"}, "22008"),
    ],
)
async def test_values_postgresql_cannot_store_are_400_on_both_backends(
    client: httpx.AsyncClient, pos_headers: Headers, extra: dict[str, str], code: str
) -> None:
    body = json.dumps({**NEW_ORDER, **extra}).encode()
    r = await client.post("/rest/v1/orders", content=body, headers={**pos_headers, "Content-Type": "application/json"})
    error(r, 400, code)


async def test_array_insert_is_all_or_nothing(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    body = [{**NEW_ORDER, "number": "W1"}, {**NEW_ORDER, "number": "W2", "id": A2}]
    error(await seeded.post("/rest/v1/orders", json=body, headers=pos_headers), 409, "23505")
    assert numbers(await get(seeded, "orders", pos_headers, number="in.(W1,W2)")) == []

    before = await row(seeded, "orders", A1, pos_headers)
    items = [
        {"order_id": A1, "name": "Shake", "station": "bar"},
        {"order_id": str(uuid.uuid4()), "name": "Ghost", "station": "bar"},
    ]
    error(await seeded.post("/rest/v1/order_items", json=items, headers=pos_headers), 409, "23503")
    assert (await get(seeded, "order_items", pos_headers, name="in.(Shake,Ghost)")).json() == []
    assert (await row(seeded, "orders", A1, pos_headers))["version"] == before["version"]


async def test_large_batches_are_written_and_answered_whole(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    # More rows than one `IN (...)` takes at a time (500), fewer than the per-request cap (1000).
    body = [{"number": f"N{n:04}"} for n in range(600)]
    r = await client.post("/rest/v1/orders", json=body, headers={**pos_headers, "Prefer": "return=minimal,count=exact"})
    assert r.status_code == 201 and r.headers["content-range"] == "0-599/600"
    r = await client.patch(
        "/rest/v1/orders",
        params={"number": "ilike.N*", "select": "number,version", "order": "number"},
        json={"notes": "batch"},
        headers={**pos_headers, **REPRESENTATION},
    )
    assert len(r.json()) == 600 and {o["version"] for o in r.json()} == {2}
    assert [o["number"] for o in r.json()] == sorted(o["number"] for o in body)
    too_many = [{"number": "X"}] * 1001
    error(await client.post("/rest/v1/orders", json=too_many, headers=pos_headers), 400, "54000")


async def test_upsert_is_not_implemented(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    headers = {**pos_headers, "Prefer": "resolution=merge-duplicates"}
    error(await client.post("/rest/v1/orders", json=NEW_ORDER, headers=headers), 400, "PGRST127")


async def test_writes_to_unknown_or_kitchen_tables(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    error(await client.post("/rest/v1/customers", json={}, headers=pos_headers), 404, "PGRST205")
    body = {"item_name": "Salad", "available": False}
    error(await client.post("/rest/v1/menu_availability", json=body, headers=pos_headers), 403, "42501")


# ---------------------------------------------------------------- inserting items


async def test_items_added_to_a_fresh_order_are_not_changes(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    order_id = str(uuid.uuid4())
    await client.post("/rest/v1/orders", json={**NEW_ORDER, "id": order_id}, headers=pos_headers)
    items = [
        {"order_id": order_id, "name": "Wrap", "station": "cold", "modifiers": ["no sauce"]},
        {"order_id": order_id, "name": "Soda", "station": "bar", "quantity": 2},
    ]
    r = await client.post("/rest/v1/order_items", json=items, headers={**pos_headers, **REPRESENTATION})
    assert r.status_code == 201
    assert [(i["name"], i["changed_after_send"], i["status"]) for i in r.json()] == [
        ("Wrap", False, "new"),
        ("Soda", False, "new"),
    ]
    assert r.json()[0]["modifiers"] == ["no sauce"] and r.json()[1]["quantity"] == 2
    assert (await row(client, "orders", order_id, pos_headers))["status"] == "new"


async def test_items_added_to_a_started_order_are_flagged_and_reopen_it(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    await send_intents(seeded, "kds", {"kind": "bump_ticket", "order_id": A1})
    assert (await row(seeded, "orders", A1, pos_headers))["status"] == "ready"
    item = {"order_id": A1, "name": "Shake", "station": "bar"}
    r = await seeded.post("/rest/v1/order_items", json=item, headers={**pos_headers, **REPRESENTATION, **OBJECT})
    assert r.status_code == 201 and r.json()["changed_after_send"] is True
    assert (await row(seeded, "orders", A1, pos_headers))["status"] == "in_progress"


async def test_items_added_to_an_old_order_are_flagged_unless_the_body_says(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    # A2 is still `new`, but the kitchen has shown it since 18:05.
    items = [
        {"order_id": A2, "name": "Soup", "station": "saute"},
        {"order_id": A2, "name": "Bread", "station": "cold", "changed_after_send": False},
    ]
    r = await seeded.post("/rest/v1/order_items", json=items, headers={**pos_headers, **REPRESENTATION})
    assert [i["changed_after_send"] for i in r.json()] == [True, False]


async def test_item_insert_errors(seeded: httpx.AsyncClient, pos_headers: Headers, kds_headers: Headers) -> None:
    item = {"order_id": A1, "name": "Shake", "station": "bar"}
    error(await seeded.post("/rest/v1/order_items", json=item, headers=kds_headers), 403, "42501")
    fk = await seeded.post("/rest/v1/order_items", json={**item, "order_id": B1}, headers=pos_headers)
    body = error(fk, 409, "23503")
    assert body["details"] == f'Key (order_id)=({B1}) is not present in table "orders".'
    rls = await seeded.post("/rest/v1/order_items", json={**item, "restaurant_id": "r2"}, headers=pos_headers)
    assert error(rls, 403, "42501")["message"].endswith('table "order_items"')
    dup = await seeded.post("/rest/v1/order_items", json={**item, "id": BURGER}, headers=pos_headers)
    assert error(dup, 409, "23505")["message"] == 'duplicate key value violates unique constraint "order_items_pkey"'
    # The dialect's order_items has no category: the caller routes the line.
    error(
        await seeded.post("/rest/v1/order_items", json={**item, "category": "drinks"}, headers=pos_headers),
        400,
        "PGRST204",
    )
    no_station = {"order_id": A1, "name": "Shake"}
    body = error(await seeded.post("/rest/v1/order_items", json=no_station, headers=pos_headers), 400, "PGRST102")
    assert body["detail"][0]["loc"] == ["station"]


async def test_items_cannot_be_added_to_a_cancelled_order(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    await seeded.patch("/rest/v1/orders", params={"id": f"eq.{A2}"}, json={"status": "cancelled"}, headers=pos_headers)
    item = {"order_id": A2, "name": "Soup", "station": "saute"}
    error(await seeded.post("/rest/v1/order_items", json=item, headers=pos_headers), 409, "KDS409")


# ---------------------------------------------------------------- updates


async def test_patch_requires_a_filter(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    for params in ({}, {"select": "id"}, {"order_items.station": "eq.grill", "select": "*,order_items(*)"}):
        r = await seeded.patch("/rest/v1/orders", params=params, json={"notes": "x"}, headers=pos_headers)
        assert error(r, 400, "21000")["message"] == "UPDATE requires a WHERE clause"
    assert all(o["notes"] != "x" for o in (await get(seeded, "orders", pos_headers)).json())


async def test_patch_writes_each_matched_row_with_a_new_version(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    before = {o["id"]: o for o in (await get(seeded, "orders", pos_headers)).json()}
    top_seq = max(o["change_seq"] for o in before.values())
    r = await seeded.patch(
        "/rest/v1/orders", params={"guests": "not.is.null"}, json={"server_name": "Sam"}, headers=pos_headers
    )
    assert r.status_code == 204 and r.content == b""
    after = {o["id"]: o for o in (await get(seeded, "orders", pos_headers)).json()}
    for order_id in (A1, A3):
        assert after[order_id]["server_name"] == "Sam"
        assert after[order_id]["version"] == before[order_id]["version"] + 1
        assert after[order_id]["change_seq"] > top_seq
    assert after[A1]["change_seq"] != after[A3]["change_seq"]
    assert after[A2] == before[A2]


async def test_patch_with_representation(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await seeded.patch(
        "/rest/v1/orders",
        params={"id": f"eq.{A2}", "select": "number,notes,priority,version"},
        json={"notes": None, "priority": "rush"},
        headers={**pos_headers, **REPRESENTATION},
    )
    assert r.status_code == 200
    assert r.json() == [{"number": "A2", "notes": None, "priority": "rush", "version": 2}]


async def test_patch_object_accept_changes_nothing_unless_one_row(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    r = await seeded.patch(
        "/rest/v1/orders",
        params={"number": "in.(A1,A2)"},
        json={"notes": "both"},
        headers={**pos_headers, **REPRESENTATION, **OBJECT},
    )
    assert error(r, 406, "PGRST116")["details"] == "The result contains 2 rows"
    assert (await row(seeded, "orders", A1, pos_headers))["version"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"colour": "red"}, 400, "PGRST204"),
        ({"number": "Z9"}, 403, "42501"),
        ({"restaurant_id": "r2"}, 403, "42501"),
        ({"priority": None}, 400, "23502"),
        ({"status": "ready"}, 400, "PGRST102"),
        ({"guests": "many"}, 400, "PGRST102"),
    ],
)
async def test_patch_body_errors(
    seeded: httpx.AsyncClient, pos_headers: Headers, body: dict[str, Any], status: int, code: str
) -> None:
    r = await seeded.patch("/rest/v1/orders", params={"id": f"eq.{A1}"}, json=body, headers=pos_headers)
    error(r, status, code)
    assert (await row(seeded, "orders", A1, pos_headers))["version"] == 1


@pytest.mark.parametrize("role", ["kds", "expo"])
async def test_kitchen_devices_cannot_patch(seeded: httpx.AsyncClient, role: str) -> None:
    r = await seeded.patch(
        "/rest/v1/order_items",
        params={"id": f"eq.{FRIES}"},
        json={"status": "voided"},
        headers=auth_headers(token_for(role)),
    )
    # Refused in words, where Supabase's RLS would answer 204 having changed nothing (README: "on purpose").
    body = error(r, 403, "42501")
    assert body["message"] == f"a {role} device cannot update order_items" and "pos" in body["hint"]
    assert (await row(seeded, "order_items", FRIES, auth_headers(token_for("pos"))))["status"] != "voided"


async def test_empty_patch_changes_nothing(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await seeded.patch("/rest/v1/orders", params={"id": f"eq.{A1}"}, json={}, headers=pos_headers)
    assert r.status_code == 204
    assert (await row(seeded, "orders", A1, pos_headers))["version"] == 1


async def test_cancelling(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    r = await seeded.patch(
        "/rest/v1/orders",
        params={"id": f"eq.{A2}"},
        json={"status": "cancelled"},
        headers={**pos_headers, **REPRESENTATION, **OBJECT},
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"

    await send_intents(seeded, "kds", {"kind": "bump_ticket", "order_id": A1})
    await send_intents(seeded, "expo", {"kind": "serve", "order_id": A1})
    served = await seeded.patch(
        "/rest/v1/orders", params={"id": f"eq.{A1}"}, json={"status": "cancelled"}, headers=pos_headers
    )
    assert "already served" in error(served, 409, "KDS409")["message"]
    assert (await row(seeded, "orders", A1, pos_headers))["status"] == "served"


async def test_voiding_flags_the_item_and_rederives_the_order(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    await send_intents(seeded, "kds", {"kind": "bump_item", "order_id": A1, "item_id": BURGER})
    assert (await row(seeded, "orders", A1, pos_headers))["status"] == "in_progress"
    fries_before = await row(seeded, "order_items", FRIES, pos_headers)

    r = await seeded.patch(
        "/rest/v1/order_items",
        params={"id": f"eq.{FRIES}"},
        json={"status": "voided"},
        headers={**pos_headers, **REPRESENTATION},
    )
    assert r.status_code == 200
    (fries,) = r.json()
    assert fries["status"] == "voided" and fries["changed_after_send"] is True
    assert fries["version"] == fries_before["version"] + 1 and fries["change_seq"] > fries_before["change_seq"]
    # Only the burger is left, and it is done: the order is ready.
    order = await row(seeded, "orders", A1, pos_headers)
    assert order["status"] == "ready" and order["change_seq"] > fries["change_seq"]


async def test_changing_an_items_details_on_a_started_order_flags_it(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    await send_intents(seeded, "kds", {"kind": "start", "order_id": A3})
    r = await seeded.patch(
        "/rest/v1/order_items",
        params={"order_id": f"eq.{A3}", "name": "eq.Steak"},
        json={"quantity": 2, "notes": "medium rare", "allergens": ["dairy"]},
        headers={**pos_headers, **REPRESENTATION},
    )
    (steak,) = r.json()
    assert (steak["quantity"], steak["notes"], steak["allergens"]) == (2, "medium rare", ["dairy"])
    assert steak["changed_after_send"] is True
    cake = await row(seeded, "order_items", CAKE, pos_headers)
    assert cake["changed_after_send"] is False and cake["quantity"] == 1


async def test_changing_an_item_on_a_fresh_order_is_not_a_change(
    client: httpx.AsyncClient, pos_headers: Headers
) -> None:
    order = await post_order(client, pos_headers, {"number": "F1", "items": [{"name": "Burger", "category": "grill"}]})
    item_id = order["order_items"][0]["id"]
    r = await client.patch(
        "/rest/v1/order_items",
        params={"id": f"eq.{item_id}"},
        json={"quantity": 3},
        headers={**pos_headers, **REPRESENTATION, **OBJECT},
    )
    assert r.json()["quantity"] == 3 and r.json()["changed_after_send"] is False and r.json()["version"] == 2


async def test_patching_many_items_bumps_each_and_the_order_once(
    seeded: httpx.AsyncClient, pos_headers: Headers
) -> None:
    before = await row(seeded, "orders", A1, pos_headers)
    r = await seeded.patch(
        "/rest/v1/order_items",
        params={"order_id": f"eq.{A1}", "order": "name"},
        json={"status": "voided"},
        headers={**pos_headers, **REPRESENTATION},
    )
    assert [(i["name"], i["status"], i["version"]) for i in r.json()] == [
        ("Burger", "voided", 2),
        ("Fries", "voided", 2),
    ]
    # All items voided: nothing left to cook, the order keeps its status (no needless write).
    after = await row(seeded, "orders", A1, pos_headers)
    assert after["status"] == "new" and after["version"] == before["version"]
