"""Supabase's own `postgrest` client reads the deletion log from a real `kds-backend serve` (SQLite and
PostgreSQL), with the query screens catch up with, and is refused every write to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from postgrest import APIError, AsyncPostgrestClient

from api_client.models import DeletedRowPublic
from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.postgrest.seed import A1, A3, B1, BURGER, FRIES, R1_ORDERS, R2_ORDER
from tests.live_server import LiveServer

from .test_postgrest_client import _intake

pytestmark = pytest.mark.slow


def _headers(role: str, restaurant: str = "r1") -> dict[str, str]:
    token = token_for(role, restaurant=restaurant, device=f"{restaurant}-{role}-1")
    return {"apikey": issue_anon_key(JWT_SECRET), "Authorization": f"Bearer {token}"}


@pytest.fixture
async def clients(live_server: LiveServer) -> AsyncIterator[dict[str, AsyncPostgrestClient]]:
    for body in R1_ORDERS:
        await _intake(live_server.url, body)
    await _intake(live_server.url, R2_ORDER, "r2")
    opened = {
        name: AsyncPostgrestClient(f"{live_server.url}/rest/v1", headers=_headers(role, restaurant))
        for name, role, restaurant in (("admin", "admin", "r1"), ("kds", "kds", "r1"), ("r2", "admin", "r2"))
    }
    try:
        yield opened
    finally:
        for client in opened.values():
            await client.aclose()


async def test_the_official_client_catches_up_on_deletions(clients: dict[str, AsyncPostgrestClient]) -> None:
    admin, kds, r2 = clients["admin"], clients["kds"], clients["r2"]
    seqs = await admin.table("orders").select("change_seq, order_items(change_seq)").execute()
    top = max(s for o in seqs.data for s in (o["change_seq"], *(i["change_seq"] for i in o["order_items"])))

    deleted = await admin.table("orders").delete().eq("id", A1).execute()
    assert [o["id"] for o in deleted.data] == [A1]
    await r2.table("orders").delete().eq("id", B1).execute()

    page = (
        await kds.table("deleted_rows")
        .select("*")
        .eq("restaurant_id", "r1")
        .gt("change_seq", 0)
        .order("change_seq")
        .limit(500)
        .execute()
    )
    rows = [DeletedRowPublic.model_validate(row) for row in page.data]
    assert [(r.table_name, str(r.row_id)) for r in rows] == [
        ("order_items", BURGER),
        ("order_items", FRIES),
        ("orders", A1),
    ]
    assert all(r.change_seq > top and str(r.order_id) == A1 and r.restaurant_id == "r1" for r in rows)
    assert [r.change_seq for r in rows] == sorted(r.change_seq for r in rows)

    # Only what came after the last one seen, and never another restaurant's.
    await admin.table("orders").delete().eq("id", A3).execute()
    later = await kds.table("deleted_rows").select("table_name, row_id").gt("change_seq", rows[-1].change_seq).execute()
    assert [r["table_name"] for r in later.data] == ["order_items", "order_items", "orders"]
    assert later.data[-1]["row_id"] == A3
    theirs = await r2.table("deleted_rows").select("restaurant_id, row_id", count="exact").execute()
    assert theirs.count == 2 and {r["restaurant_id"] for r in theirs.data} == {"r2"}


async def test_the_official_client_cannot_write_the_log(clients: dict[str, AsyncPostgrestClient]) -> None:
    admin = clients["admin"]
    await admin.table("orders").delete().eq("id", A1).execute()
    writes = [
        admin.table("deleted_rows").insert({"change_seq": 1, "restaurant_id": "r1"}),
        admin.table("deleted_rows").update({"order_id": None}).eq("row_id", A1),
        admin.table("deleted_rows").delete().eq("row_id", A1),
    ]
    for write in writes:
        with pytest.raises(APIError) as refused:
            await write.execute()
        assert refused.value.code == "42501", refused.value
    assert len((await admin.table("deleted_rows").select("row_id").execute()).data) == 3
