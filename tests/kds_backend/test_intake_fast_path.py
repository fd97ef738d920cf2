"""POS intake's fast path (`IntakeFastPath`) answers exactly as the ordinary route does.

A body sent as `application/json` takes the fast path; the same bytes sent as another JSON type
(`application/vnd.pos+json`, which FastAPI parses as JSON too) go through FastAPI's routing, dependencies and
body parsing. Every answer, a refusal or a stored order, must be the same status, headers and bytes either way.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.conftest import auth_headers, token_for
from tests.helpers.pos import EXAMPLE

FAST = {"Content-Type": "application/json"}
ORDINARY = {"Content-Type": "application/vnd.pos+json"}


async def both(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> tuple[httpx.Response, ...]:
    """The same request the fast way and the ordinary way."""
    fast = await client.post("/api/v1/orders", content=body, headers={**headers, **FAST})
    ordinary = await client.post("/api/v1/orders", content=body, headers={**headers, **ORDINARY})
    return fast, ordinary


def same(fast: httpx.Response, ordinary: httpx.Response) -> None:
    assert fast.status_code == ordinary.status_code, (fast.text, ordinary.text)
    assert fast.content == ordinary.content
    assert sorted(fast.headers.multi_items()) == sorted(ordinary.headers.multi_items())


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def encoded(body: object) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (encoded({**EXAMPLE, "items": [{"name": "Burger", "quantity": 0}]}), 422),  # a field out of range
        (encoded({**EXAMPLE, "colour": "red"}), 422),  # an unknown field
        (encoded([EXAMPLE]), 422),  # not an object: pydantic says so differently from JSON and from Python
        (b"null", 422),  # FastAPI: the body is missing
        (b'{"number": "A1", "guests": NaN, "items": []}', 422),  # JSON to Python, not to pydantic's parser
        (b"{not json", 400),
        (b"\x00", 400),
        (b"", 422),
    ],
)
async def test_a_bad_body_gets_the_routes_own_answer(
    client: httpx.AsyncClient, pos_headers: dict, body: bytes, status: int
) -> None:
    fast, ordinary = await both(client, body, {**pos_headers, **key()})
    same(fast, ordinary)
    assert fast.status_code == status


async def test_refused_callers_get_the_routes_own_answer(
    client: httpx.AsyncClient, pos_headers: dict, kds_headers: dict
) -> None:
    body = encoded(EXAMPLE)
    expired = auth_headers(token_for("pos", ttl_s=-10))
    for headers, status in [
        (pos_headers, 400),  # no Idempotency-Key
        ({**pos_headers, "Idempotency-Key": "x" * 201}, 400),
        ({**kds_headers, **key()}, 403),
        ({**expired, **key()}, 401),
        ({"Idempotency-Key": "k"}, 401),  # no API key at all
    ]:
        fast, ordinary = await both(client, body, headers)
        same(fast, ordinary)
        assert fast.status_code == status


async def test_write_refusals_and_replays_are_the_same_either_way(client: httpx.AsyncClient, pos_headers: dict) -> None:
    headers = {**pos_headers, **key()}
    first = await client.post("/api/v1/orders", content=encoded(EXAMPLE), headers={**headers, **FAST})
    assert first.status_code == 201

    fast, ordinary = await both(client, encoded(EXAMPLE), headers)  # a retry: the first answer, replayed
    same(fast, ordinary)
    # The same order (PostgreSQL's jsonb keeps the stored answer's keys in its own order).
    assert fast.json() == first.json() and fast.headers["Idempotent-Replayed"] == "true"

    fast, ordinary = await both(client, encoded({**EXAMPLE, "number": "A18"}), headers)  # key reused
    same(fast, ordinary)
    assert fast.status_code == 409 and fast.json()["code"] == "KDS409"

    taken = {**EXAMPLE, "id": first.json()["id"]}  # an order id that exists: refused by the write itself
    fast = await client.post("/api/v1/orders", content=encoded(taken), headers={**pos_headers, **key(), **FAST})
    ordinary = await client.post("/api/v1/orders", content=encoded(taken), headers={**pos_headers, **key(), **ORDINARY})
    same(fast, ordinary)
    assert fast.status_code == 409 and fast.json()["code"] == "23505"

    item_id = str(uuid.uuid4())
    twice = {**EXAMPLE, "items": [{"id": item_id, "name": "A", "quantity": 1}, {"id": item_id, "name": "B"}]}
    fast = await client.post("/api/v1/orders", content=encoded(twice), headers={**pos_headers, **key(), **FAST})
    ordinary = await client.post("/api/v1/orders", content=encoded(twice), headers={**pos_headers, **key(), **ORDINARY})
    same(fast, ordinary)
    assert fast.status_code == 422 and fast.json()["code"] == "KDS422"


async def test_a_stored_order_is_answered_alike(client: httpx.AsyncClient, pos_headers: dict) -> None:
    fast = await client.post("/api/v1/orders", content=encoded(EXAMPLE), headers={**pos_headers, **key(), **FAST})
    ordinary = await client.post(
        "/api/v1/orders", content=encoded(EXAMPLE), headers={**pos_headers, **key(), **ORDINARY}
    )
    assert fast.status_code == ordinary.status_code == 201
    assert sorted(fast.headers) == sorted(ordinary.headers)
    a, b = fast.json(), ordinary.json()
    assert a["id"] != b["id"]  # two orders
    for order in (a, b):
        del order["id"], order["created_at"], order["updated_at"], order["change_seq"]
        for item in order["order_items"]:
            assert item["fired_at"] == item["created_at"]  # sent to the kitchen as it came in (fire timing)
            del item["id"], item["order_id"], item["created_at"], item["updated_at"], item["change_seq"]
            del item["fired_at"]
    assert a == b
