"""orders.item_count on the companion: the number of the order's item rows, kept by the write transaction that
inserts or deletes them (kds_backend/db/writer.py settle_item_counts), whichever path writes the items, so a screen
can hold a commit until it has them all (sync/readpath/whole_tickets.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import auth_headers, token_for
from tests.helpers.pos import EXAMPLE

Headers = dict[str, str]
REPRESENTATION = {"Prefer": "return=representation"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def read(client: httpx.AsyncClient, table: str, headers: Headers, **filters: str) -> list[dict[str, Any]]:
    r = await client.get(f"/rest/v1/{table}", params=filters, headers=headers)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


async def test_pos_intake_sets_the_count_on_the_insert_and_an_added_line_in_the_same_new_version(
    client: httpx.AsyncClient, pos_headers: Headers
) -> None:
    r = await client.post("/api/v1/orders", json=EXAMPLE, headers={**pos_headers, **key()})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["item_count"] == len(EXAMPLE["items"]) == len(order["order_items"])
    assert order["version"] == 1, "no second version of the order just for its count"
    added = await client.post(
        f"/api/v1/orders/{order['id']}/items",
        json={"items": [{"name": "Shake", "category": "cold"}]},
        headers={**pos_headers, **key()},
    )
    assert added.status_code == 201, added.text
    assert added.json()["item_count"] == len(order["order_items"]) + 1
    assert added.json()["version"] == 2, "the count moved with the order's one new version"
    (stored,) = await read(client, "orders", pos_headers, id=f"eq.{order['id']}")
    assert stored["item_count"] == added.json()["item_count"]


async def test_rest_lines_count_in_their_commit_a_void_still_counts_and_a_delete_does_not(
    client: httpx.AsyncClient, pos_headers: Headers
) -> None:
    order_id = str(uuid.uuid4())
    new = {"id": order_id, "number": "W1", "source": "online", "type": "pickup"}
    r = await client.post("/rest/v1/orders", json=new, headers={**pos_headers, **REPRESENTATION})
    assert r.json()[0]["item_count"] == 0, "published with the count the row has"
    lines = [
        {"order_id": order_id, "name": "Wrap", "station": "cold"},
        {"order_id": order_id, "name": "Soda", "station": "bar"},
    ]
    r = await client.post("/rest/v1/order_items", json=lines, headers={**pos_headers, **REPRESENTATION})
    assert r.status_code == 201, r.text
    wrap, soda = r.json()
    (order,) = await read(client, "orders", pos_headers, id=f"eq.{order_id}")
    assert order["item_count"] == 2 and order["version"] == 2
    assert order["change_seq"] > max(wrap["change_seq"], soda["change_seq"]), "the same commit, after its lines"

    voided = await client.patch(
        "/rest/v1/order_items", params={"id": f"eq.{soda['id']}"}, json={"status": "voided"}, headers=pos_headers
    )
    assert voided.status_code in (200, 204), voided.text
    (order,) = await read(client, "orders", pos_headers, id=f"eq.{order_id}")
    assert order["item_count"] == 2, "a void is a status: the line is still on the ticket"

    admin = auth_headers(token_for("admin"))
    gone = await client.delete("/rest/v1/order_items", params={"id": f"eq.{soda['id']}"}, headers=admin)
    assert gone.status_code == 204, gone.text
    (order,) = await read(client, "orders", pos_headers, id=f"eq.{order_id}")
    assert order["item_count"] == 1
    whole = await client.delete("/rest/v1/orders", params={"id": f"eq.{order_id}"}, headers=admin)
    assert whole.status_code == 204, whole.text  # its lines first, then the order: nothing left to count
    assert await read(client, "orders", pos_headers, id=f"eq.{order_id}") == []


async def test_a_client_cannot_write_the_count(client: httpx.AsyncClient, pos_headers: Headers) -> None:
    new = {"number": "W2", "source": "online", "type": "pickup", "item_count": 5}
    r = await client.post("/rest/v1/orders", json=new, headers=pos_headers)
    assert r.status_code >= 400, "the server's column, like version and change_seq"
