"""The official Python client (`realtime` 2.34.1, vsn 1.0.0) against a real `kds-backend serve`.

It subscribes with a `restaurant_id=eq.r1` filter and receives INSERT, UPDATE and DELETE of `orders` and
`order_items` in Supabase's raw shape, in commit order, and nothing of restaurant r2. Runs on SQLite and on
PostgreSQL (where changes travel through the change log and LISTEN/NOTIFY).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from api_client.models import OrderChange, OrderItemChange
from tests.conftest import token_for
from tests.kds_backend.realtime.support import Inbox, create_order, delete_order, start_order
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


def data_of(event: dict[str, Any]) -> dict[str, Any]:
    return {**event["data"], "type": str(event["data"]["type"].value)}


async def subscribe(client: AsyncRealtimeClient, inbox: Inbox, system: Inbox) -> list[int]:
    channel = client.channel("orders-feed")
    for table in ("orders", "order_items"):
        channel.on_postgres_changes("*", inbox, table=table, schema="public", filter="restaurant_id=eq.r1")
    channel.on_system(system)
    states = Inbox()
    await channel.subscribe(states)
    assert (await states.next())[0] is RealtimeSubscribeStates.SUBSCRIBED
    live = await system.next()
    assert (live.extension, live.status, live.message, live.channel) == (
        "postgres_changes",
        "ok",
        "Subscribed to PostgreSQL",
        "orders-feed",
    )
    return [cb.id for cb in channel.postgres_changes_callbacks]


async def test_official_client_gets_insert_update_delete_of_its_restaurant(live_server: LiveServer) -> None:
    client = AsyncRealtimeClient(f"{live_server.url}/realtime/v1", token_for("kds", stations=["grill"]))
    inbox, system = Inbox(), Inbox()
    try:
        binding_ids = await subscribe(client, inbox, system)
        assert all(isinstance(i, int) and i > 0 for i in binding_ids)
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            # r2 writes first: if anything of r2 leaked, it would arrive before r1's order.
            await create_order(http, "r2", "B1")
            order = await create_order(http, "r1", "A1")
            inserts = await inbox.take(3)
            assert [(e["data"]["table"], data_of(e)["type"]) for e in inserts] == [
                ("orders", "INSERT"),
                ("order_items", "INSERT"),
                ("order_items", "INSERT"),
            ]
            first = data_of(inserts[0])
            assert "old_record" not in first and first["errors"] is None
            parsed = OrderChange.model_validate(first)
            assert parsed.record is not None and str(parsed.record.id) == order["id"]
            assert parsed.record.restaurant_id == "r1" and parsed.record.table_label == "12"
            assert first["commit_timestamp"].endswith("Z") and len(first["commit_timestamp"]) == 24
            assert {"name": "change_seq", "type": "int8"} in first["columns"]
            assert inserts[0]["ids"] == [binding_ids[0]] and inserts[1]["ids"] == [binding_ids[1]]
            for item_event in inserts[1:]:
                item = OrderItemChange.model_validate(data_of(item_event))
                assert item.record is not None and str(item.record.order_id) == order["id"]
            seqs = [e["data"]["record"]["change_seq"] for e in inserts]
            assert seqs == sorted(seqs)

            other = await create_order(http, "r2", "B2")
            await start_order(http, "r2", other["id"])
            await start_order(http, "r1", order["id"])
            updates = await inbox.take(3)
            assert {data_of(e)["type"] for e in updates} == {"UPDATE"}
            for e in updates:
                d = data_of(e)
                assert d["record"]["restaurant_id"] == "r1"
                # The whole previous row, as Supabase sends with replica identity full (our migration sets it).
                old, new = d["old_record"], d["record"]
                assert set(old) == set(new) and old["id"] == new["id"] and old["version"] == new["version"] - 1
                assert old["status"] == "new" and new["status"] != "new"
            assert {e["data"]["table"] for e in updates} == {"orders", "order_items"}

            await delete_order(http, "r2", other["id"])
            await delete_order(http, "r1", order["id"])
            deletes = await inbox.take(3)
            assert [(e["data"]["table"], data_of(e)["type"]) for e in deletes] == [
                ("order_items", "DELETE"),
                ("order_items", "DELETE"),
                ("orders", "DELETE"),
            ]
            assert deletes[-1]["data"]["old_record"] == {"id": order["id"]}
            assert all("record" not in e["data"] for e in deletes)
            assert inbox.queue.empty()
    finally:
        await client.close()


async def test_handshake_refuses_missing_and_bad_keys(live_server: LiveServer) -> None:
    import websockets

    base = live_server.url.replace("http", "ws") + "/realtime/v1/websocket"
    cases = [
        ("?vsn=1.0.0", "API key is missing"),
        (f"?apikey={token_for('kds', ttl_s=-5)}", "Token has expired"),
        ("?apikey=garbage", "The token provided is not a valid JWT"),
    ]
    for query, message in cases:
        with pytest.raises(websockets.InvalidStatus) as err:
            async with websockets.connect(base + query):
                pass
        response = err.value.response
        assert response.status_code == 401
        assert response.body is not None and message in response.body.decode()
