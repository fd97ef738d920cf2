"""Our client against a real `kds-backend serve` (SQLite and PostgreSQL): changes arrive, and after the companion
is killed and restarted on the same database the client reconnects and says "live again: catch up now"."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from api_client.backoff import Backoff
from api_client.models import OrderChange, OrderItemChange, OrderStatus
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key
from sync.realtime.connection import ChangeEvent, ConnectionState, EventStream, LiveAgain, RealtimeConnection
from sync.realtime.frames import Vsn
from sync.realtime.phoenix import Binding, ChannelSpec
from tests.conftest import JWT_SECRET, token_for
from tests.helpers.timeouts import scaled
from tests.kds_backend.realtime.support import create_order, start_order
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

TIMEOUT_S = scaled(15.0)
FILTER = "restaurant_id=eq.r1"
SPEC = ChannelSpec("kitchen", (Binding("orders", "*", filter=FILTER), Binding("order_items", "*", filter=FILTER)))
TOPIC = "realtime:kitchen"


async def next_change(events: EventStream) -> Any:
    while not isinstance(event := await events.next_event(TIMEOUT_S), ChangeEvent):
        pass
    return event.change


async def next_live(events: EventStream) -> LiveAgain:
    """The next (re)subscribe moment; change events still queued before it are skipped."""
    while not isinstance(event := await events.next_event(TIMEOUT_S), LiveAgain):
        pass
    return event


async def changes_until(events: EventStream, done: Any) -> list[Any]:
    seen: list[Any] = []
    while not done(seen):
        seen.append(await next_change(events))
    return seen


def order_changes(seen: list[Any], type_: str) -> list[OrderChange]:
    return [c for c in seen if isinstance(c, OrderChange) and c.type == type_]


@pytest.mark.parametrize("vsn", list(Vsn))
async def test_live_changes_then_reconnect_after_companion_restart(live_server: LiveServer, vsn: Vsn) -> None:
    conn = RealtimeConnection(
        live_server.url,
        issue_anon_key(JWT_SECRET),
        [SPEC],
        token_provider=StaticTokenProvider(token_for("kds")),
        vsn=vsn,
        heartbeat_s=1.0,
        reconnect_backoff=Backoff(0.1, 0.5, rng=random.Random(1)),
    )
    assert conn.url.endswith(f"/realtime/v1/websocket?apikey={issue_anon_key(JWT_SECRET)}&vsn={vsn.value}")
    events = conn.events()
    restarted: LiveServer | None = None
    try:
        await conn.start()
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.LIVE), TIMEOUT_S)
        assert await events.next_event(TIMEOUT_S) == LiveAgain(TOPIC, again=False)

        async with httpx.AsyncClient(base_url=live_server.url) as http:
            await create_order(http, "r2", "foreign")  # another restaurant: filtered out
            order = await create_order(http, "r1", "101")
            seen = await changes_until(
                events, lambda s: order_changes(s, "INSERT") and sum(isinstance(c, OrderItemChange) for c in s) >= 2
            )
            [insert] = order_changes(seen, "INSERT")
            assert insert.record is not None and insert.record.number == "101"
            items = [c for c in seen if isinstance(c, OrderItemChange)]
            assert {c.record.order_id for c in items if c.record} == {insert.record.id}
            assert all(c.record and c.record.restaurant_id == "r1" for c in [*items, insert])

            await start_order(http, "r1", order["id"])
            seen = await changes_until(events, lambda s: order_changes(s, "UPDATE"))
            [update] = order_changes(seen, "UPDATE")
            assert update.record is not None and update.record.status is OrderStatus.in_progress

        live_server.kill()
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.RECONNECTING), TIMEOUT_S)
        restarted = live_server.restarted()
        await asyncio.to_thread(restarted.wait_ready)
        assert await next_live(events) == LiveAgain(TOPIC, again=True)
        assert conn.state.value is ConnectionState.LIVE and conn.connections_opened == 2

        async with httpx.AsyncClient(base_url=restarted.url) as http:
            await create_order(http, "r1", "102")
            seen = await changes_until(events, lambda s: order_changes(s, "INSERT"))
            assert order_changes(seen, "INSERT")[0].record.number == "102"
    finally:
        await conn.close()
        if restarted is not None:
            restarted.stop()
