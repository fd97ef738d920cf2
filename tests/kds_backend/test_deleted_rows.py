"""`/rest/v1/deleted_rows`: the deletion log screens catch up on, over HTTP, on SQLite and on PostgreSQL.

An admin's `DELETE /rest/v1/<table>` logs every row it deletes (an order's items too) under the delete's own
change_seq, so a screen that was off pages `deleted_rows?change_seq=gt.N` like the other tables and drops
them. The log is confined to the caller's restaurant, read-only, not embeddable and not published.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from api_client.models import DeletedRowPublic
from kds_backend.db.engine import make_engine
from kds_backend.db.tables import deleted_rows, devices
from kds_backend.db.writer import write_transaction
from kds_backend.realtime.bindings import BindingError, parse_binding
from tests.conftest import auth_headers, token_for
from tests.kds_backend.postgrest.seed import (
    A1,
    A2,
    A3,
    B1,
    BURGER,
    CAKE,
    FRIES,
    R2_KDS,
    R2_POS,
    SALAD,
    STEAK,
    post_order,
    seed,
    send_intents,
)

Headers = dict[str, str]
TABLES = ("orders", "order_items", "menu_availability")
ROLES = ("kds", "expo", "pos", "admin")
R2_ADMIN = auth_headers(token_for("admin", restaurant="r2"))


def headers_of(role: str, restaurant: str = "r1") -> Headers:
    return auth_headers(token_for(role, restaurant=restaurant, stations=["grill"] if role == "kds" else None))


async def catch_up(client: httpx.AsyncClient, headers: Headers, after: int = 0, limit: int = 500) -> list[Any]:
    """The screens' page of the log, exactly as they ask for it."""
    r = await client.get(
        "/rest/v1/deleted_rows",
        params={
            "restaurant_id": "eq.r1",
            "change_seq": f"gt.{after}",
            "order": "change_seq.asc",
            "limit": str(limit),
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def delete(client: httpx.AsyncClient, table: str, row_id: str, headers: Headers) -> httpx.Response:
    return await client.delete(f"/rest/v1/{table}", params={"id": f"eq.{row_id}"}, headers=headers)


async def top_seq(client: httpx.AsyncClient, headers: Headers) -> int:
    """The highest change_seq of any row this restaurant can see."""
    seqs = [0]
    for table in TABLES:
        r = await client.get(f"/rest/v1/{table}", params={"select": "change_seq"}, headers=headers)
        assert r.status_code == 200, r.text
        seqs.extend(row["change_seq"] for row in r.json())
    return max(seqs)


@pytest.fixture
async def seeded(client: httpx.AsyncClient, pos_headers: Headers) -> httpx.AsyncClient:
    await seed(client, pos_headers)
    return client


async def test_a_deleted_order_is_logged_with_its_items_after_every_earlier_change(
    seeded: httpx.AsyncClient, admin_headers: Headers, kds_headers: Headers
) -> None:
    await send_intents(seeded, "expo", {"kind": "start", "order_id": A1})  # a later change to the order first
    before = await top_seq(seeded, admin_headers)
    assert await catch_up(seeded, kds_headers) == []

    r = await delete(seeded, "orders", A1, admin_headers)
    assert r.status_code == 204, r.text
    log = await catch_up(seeded, kds_headers)
    assert [(row["table_name"], row["row_id"]) for row in log] == [
        ("order_items", BURGER),
        ("order_items", FRIES),
        ("orders", A1),
    ], "items first, then the order, as the transaction deleted them"
    assert [row["change_seq"] for row in log] == [before + 1, before + 2, before + 3]
    for row in log:
        DeletedRowPublic.model_validate(row)
        assert set(row) == {"change_seq", "restaurant_id", "table_name", "row_id", "order_id", "deleted_at"}
        assert row["restaurant_id"] == "r1" and row["order_id"] == A1
    assert len({row["deleted_at"] for row in log}) == 1, "one transaction, one time"
    assert (await seeded.get("/rest/v1/orders", params={"id": f"eq.{A1}"}, headers=kds_headers)).json() == []

    # Later changes number after the deletes; a later delete is logged after them, in commit order.
    await send_intents(seeded, "expo", {"kind": "start", "order_id": A3})
    middle = await top_seq(seeded, admin_headers)
    assert middle > log[-1]["change_seq"]
    assert (await delete(seeded, "orders", A2, admin_headers)).status_code == 204
    later = await catch_up(seeded, kds_headers, after=log[-1]["change_seq"])
    assert [(row["table_name"], row["row_id"], row["change_seq"]) for row in later] == [
        ("order_items", SALAD, middle + 1),
        ("orders", A2, middle + 2),
    ]
    # Paging one at a time walks the same log, nothing skipped or repeated.
    paged: list[Any] = []
    while page := await catch_up(seeded, kds_headers, after=paged[-1]["change_seq"] if paged else 0, limit=1):
        paged.extend(page)
    assert paged == log + later


async def test_deleting_an_item_or_a_menu_row_logs_it(seeded: httpx.AsyncClient, admin_headers: Headers) -> None:
    await send_intents(seeded, "kds", {"kind": "eighty_six", "args": {"item_name": "Calamari"}})
    menu = await seeded.get("/rest/v1/menu_availability", params={"item_name": "eq.Calamari"}, headers=admin_headers)
    menu_id = menu.json()[0]["id"]
    assert (await delete(seeded, "order_items", CAKE, admin_headers)).status_code == 204
    assert (await delete(seeded, "menu_availability", menu_id, admin_headers)).status_code == 204
    log = await catch_up(seeded, admin_headers)
    assert [(row["table_name"], row["row_id"], row["order_id"]) for row in log] == [
        ("order_items", CAKE, A3),
        ("menu_availability", menu_id, None),
    ]
    steak = await seeded.get("/rest/v1/order_items", params={"id": f"eq.{STEAK}"}, headers=admin_headers)
    assert len(steak.json()) == 1, "only the one line went"


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_reads_its_own_restaurant_only(
    seeded: httpx.AsyncClient, admin_headers: Headers, role: str
) -> None:
    assert (await delete(seeded, "orders", A1, admin_headers)).status_code == 204
    assert (await delete(seeded, "orders", B1, R2_ADMIN)).status_code == 204
    own = await catch_up(seeded, headers_of(role))
    assert {row["restaurant_id"] for row in own} == {"r1"} and len(own) == 3
    # r2's token: the screens' own query (restaurant_id=eq.r1) and an unfiltered read see nothing of r1.
    r2 = headers_of(role, "r2")
    assert await catch_up(seeded, r2) == []
    everything = await seeded.get("/rest/v1/deleted_rows", headers=r2)
    assert [(row["restaurant_id"], row["row_id"]) for row in everything.json()][-1] == ("r2", B1)
    assert {row["restaurant_id"] for row in everything.json()} == {"r2"}
    sneaky = await seeded.get(
        "/rest/v1/deleted_rows", params={"or": "(restaurant_id.eq.r1,change_seq.gt.0)"}, headers=r2
    )
    assert all(row["restaurant_id"] == "r2" for row in sneaky.json())
    r3 = await seeded.get("/rest/v1/deleted_rows", headers=headers_of(role, "r3"))
    assert r3.status_code == 200 and r3.json() == []


async def test_head_and_count_work_as_for_the_other_tables(seeded: httpx.AsyncClient, admin_headers: Headers) -> None:
    assert (await delete(seeded, "orders", A3, admin_headers)).status_code == 204
    r = await seeded.head("/rest/v1/deleted_rows", headers={**admin_headers, "Prefer": "count=exact"})
    assert r.status_code == 200 and r.headers["content-range"] == "0-2/3"
    page = await seeded.get(
        "/rest/v1/deleted_rows",
        params={"limit": "1", "offset": "1", "table_name": "eq.order_items", "select": "row_id"},
        headers={**admin_headers, "Prefer": "count=exact"},
    )
    assert page.status_code == 206 and page.headers["content-range"] == "1-1/2"
    assert page.json() in ([{"row_id": CAKE}], [{"row_id": STEAK}])
    one = await seeded.get(
        "/rest/v1/deleted_rows",
        params={"table_name": "eq.orders"},
        headers={**admin_headers, "Accept": "application/vnd.pgrst.object+json"},
    )
    assert one.status_code == 200 and one.json()["row_id"] == A3


@pytest.mark.parametrize("role", ROLES)
async def test_the_log_is_read_only(seeded: httpx.AsyncClient, admin_headers: Headers, role: str) -> None:
    assert (await delete(seeded, "orders", A1, admin_headers)).status_code == 204
    before = await catch_up(seeded, admin_headers)
    headers = headers_of(role)
    row = {"change_seq": 99999, "restaurant_id": "r1", "table_name": "orders", "row_id": str(uuid.uuid4())}
    attempts = [
        seeded.post("/rest/v1/deleted_rows", json=row, headers=headers),
        seeded.patch("/rest/v1/deleted_rows", params={"row_id": f"eq.{A1}"}, json={"order_id": None}, headers=headers),
        seeded.delete("/rest/v1/deleted_rows", params={"row_id": f"eq.{A1}"}, headers=headers),
        seeded.delete("/rest/v1/deleted_rows", params={"change_seq": "gt.0"}, headers=headers),
    ]
    for attempt in attempts:
        r = await attempt
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["code"] == "42501" and body["message"] == "permission denied for table deleted_rows", body
        assert {"code", "message", "details", "hint"} <= set(body)
    assert await catch_up(seeded, admin_headers) == before


async def test_the_log_is_not_embeddable(seeded: httpx.AsyncClient, admin_headers: Headers) -> None:
    assert (await delete(seeded, "orders", A1, admin_headers)).status_code == 204
    for table, select in (("deleted_rows", "*,orders(*)"), ("orders", "*,deleted_rows(*)")):
        r = await seeded.get(f"/rest/v1/{table}", params={"select": select}, headers=admin_headers)
        assert r.status_code == 400 and r.json()["code"] == "PGRST200", r.text


async def test_a_refused_delete_logs_nothing(seeded: httpx.AsyncClient, pos_headers: Headers) -> None:
    assert (await delete(seeded, "orders", A1, pos_headers)).status_code == 403  # only admins delete
    assert (await delete(seeded, "orders", B1, R2_POS)).status_code == 403
    assert await catch_up(seeded, headers_of("admin")) == []
    assert await catch_up(seeded, R2_KDS) == []


async def test_an_order_of_another_restaurant_is_not_deleted_nor_logged(
    seeded: httpx.AsyncClient, admin_headers: Headers
) -> None:
    r = await delete(seeded, "orders", B1, admin_headers)  # r1's admin, r2's order: matches nothing
    assert r.status_code == 204
    assert await catch_up(seeded, admin_headers) == []
    assert (await seeded.get("/rest/v1/deleted_rows", headers=R2_ADMIN)).json() == []


async def test_a_new_order_after_a_delete_is_read_as_usual(
    seeded: httpx.AsyncClient, admin_headers: Headers, pos_headers: Headers
) -> None:
    assert (await delete(seeded, "orders", A1, admin_headers)).status_code == 204
    deleted = await catch_up(seeded, admin_headers)
    created = await post_order(seeded, pos_headers, {"number": "A9", "items": [{"name": "Soup", "category": "soup"}]})
    assert created["change_seq"] > deleted[-1]["change_seq"]


def test_realtime_does_not_publish_the_log() -> None:
    with pytest.raises(BindingError, match="not published"):
        parse_binding({"event": "*", "schema": "public", "table": "deleted_rows"})
    everything = parse_binding({"event": "*", "schema": "public", "table": "*"})
    assert set(everything.tables) == {*TABLES, "recipes"}  # the exposed tables, the log not among them


def test_writer_delete_refuses_a_table_it_cannot_log(database_url: str) -> None:
    from kds_backend.db.engine import migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
        with pytest.raises(ValueError, match="devices"), write_transaction(engine) as w:
            w.delete(devices, {"id": "d1", "restaurant_id": "r1"})
        with engine.connect() as conn:
            assert conn.execute(deleted_rows.select()).all() == []
    finally:
        engine.dispose()
