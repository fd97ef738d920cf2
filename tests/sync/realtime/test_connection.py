"""The asyncio pump against a scripted Phoenix server on a real socket: every failure ends live again.

Short heartbeats (0.2 s) and backoffs; every wait is on a condition or an event, with a timeout.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api_client.backoff import Backoff
from api_client.models import OrderChange
from sync.realtime.changes import RawChange
from sync.realtime.connection import ChangeEvent, ConnectionState, Event, EventStream, LiveAgain, RealtimeConnection
from sync.realtime.phoenix import Binding, ChannelSpec
from tests.sync.realtime.fake_phoenix import TIMEOUT_S, FakePhoenix, order_insert

SPEC = ChannelSpec("orders-feed", (Binding("orders", filter="restaurant_id=eq.r1"), Binding("order_items")))
TOPIC = "realtime:orders-feed"


class Tokens:
    """A token source whose refresh hands out the next token, like a signed-in session would."""

    def __init__(self) -> None:
        self.token = "TOKEN-1"
        self.refreshes = 0

    async def get_token(self) -> str | None:
        return self.token

    async def refresh(self, rejected: str | None = None) -> str | None:
        self.refreshes += 1
        self.token = f"TOKEN-{self.refreshes + 1}"
        return self.token


def make_connection(url: str, tokens: Tokens | None = None, **kw: Any) -> RealtimeConnection:
    options: dict[str, Any] = {
        "heartbeat_s": 0.2,
        "join_timeout_s": 5.0,
        "rate_limited_delay_s": 0.6,
        "reconnect_backoff": Backoff(0.05, 0.2, rng=random.Random(1)),
        "rejoin_backoff": lambda: Backoff(0.05, 0.2, rng=random.Random(2)),
        "offline_after_s": 0.3,
        "close_timeout_s": 0.5,
        **kw,
    }
    return RealtimeConnection(url, "ANON", [SPEC], token_provider=tokens or Tokens(), **options)


@pytest.fixture
async def fake() -> AsyncIterator[FakePhoenix]:
    server = FakePhoenix()
    await server.start()
    yield server
    await server.stop()


async def live(conn: RealtimeConnection) -> None:
    await asyncio.wait_for(conn.state.wait_for(ConnectionState.LIVE), TIMEOUT_S)


async def next_of(stream: EventStream, kind: type[Event]) -> Any:
    while not isinstance(event := await stream.next_event(TIMEOUT_S), kind):
        pass
    return event


async def test_premature_subscribed_is_not_live_until_the_system_message(fake: FakePhoenix) -> None:
    fake.hold_system = True
    conn = make_connection(fake.url)
    states: list[ConnectionState] = []
    conn.state.subscribe(states.append)
    events = conn.events()
    async with conn:
        _, join = await fake.next_frame("phx_join")
        assert join["payload"]["access_token"] == "TOKEN-1"
        # The ok reply went out before the join frame was recorded; two heartbeats later the client has read it.
        for _ in range(2):
            await asyncio.wait_for(fake.heartbeats.get(), TIMEOUT_S)
        assert conn.channel_phase("orders-feed") == "subscribing"
        assert conn.state.value is ConnectionState.JOINING
        fake.release()
        await live(conn)
        assert await events.next_event(TIMEOUT_S) == LiveAgain(TOPIC, again=False)
        await fake.push(order_insert("7"))
        event = await next_of(events, ChangeEvent)
        assert isinstance(event.change, OrderChange) and event.change.record is not None
        assert event.change.record.number == "7" and event.change.type == "INSERT"
    assert states == [ConnectionState.JOINING, ConnectionState.LIVE, ConnectionState.OFFLINE]


async def test_changes_for_foreign_binding_ids_are_ignored(fake: FakePhoenix) -> None:
    conn = make_connection(fake.url)
    events = conn.events()
    async with conn:
        await live(conn)
        await fake.push(order_insert("foreign"), ids=[999])
        await fake.push(order_insert("ours"), ids=[101])
        event = await next_of(events, ChangeEvent)
        assert isinstance(event.change, OrderChange) and event.change.record is not None
        assert event.change.record.number == "ours"


async def test_dropped_socket_reconnects_rejoins_and_reports_live_again(fake: FakePhoenix) -> None:
    conn = make_connection(fake.url)
    events = conn.events()
    async with conn:
        await live(conn)
        assert await next_of(events, LiveAgain) == LiveAgain(TOPIC, again=False)
        fake.drop()
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.RECONNECTING), TIMEOUT_S)
        conn_no, _ = await fake.next_frame("phx_join")  # the first join
        conn_no, _ = await fake.next_frame("phx_join")
        assert conn_no == 2
        assert await next_of(events, LiveAgain) == LiveAgain(TOPIC, again=True)
        await live(conn)
        await fake.push(order_insert("after"))
        event = await next_of(events, ChangeEvent)
        assert event.change.record.number == "after"


async def test_silent_socket_is_detected_by_heartbeat_tracking(fake: FakePhoenix) -> None:
    conn = make_connection(fake.url)
    events = conn.events()
    async with conn:
        await live(conn)
        await next_of(events, LiveAgain)
        fake.silent = True  # the socket stays open; heartbeats go unanswered
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.RECONNECTING), TIMEOUT_S)
        fake.silent = False
        assert await next_of(events, LiveAgain) == LiveAgain(TOPIC, again=True)
        assert fake.connections == 2
        await fake.push(order_insert("after-silence"))
        assert (await next_of(events, ChangeEvent)).change.record.number == "after-silence"


async def test_join_errors_are_retried_and_rate_limits_wait_longer(fake: FakePhoenix) -> None:
    fake.join_errors = ["Unknown Error on Channel", "ClientJoinRateLimitReached: Too many joins per second"]
    conn = make_connection(fake.url)
    async with conn:
        await live(conn)
    assert len(fake.join_times) == 3 and fake.connections == 1
    ordinary, rate_limited = (b - a for a, b in zip(fake.join_times, fake.join_times[1:], strict=False))
    assert ordinary < 0.6 <= rate_limited


async def test_token_expiry_close_rejoins_with_a_fresh_token(fake: FakePhoenix) -> None:
    tokens = Tokens()
    conn = make_connection(fake.url, tokens)
    events = conn.events()
    async with conn:
        await live(conn)
        await next_of(events, LiveAgain)
        await fake.expire_token()
        conn_no, join = await fake.next_frame("phx_join")  # the first join
        conn_no, join = await fake.next_frame("phx_join")
        assert conn_no == 1, "the channel is rejoined on the same socket"
        assert join["payload"]["access_token"] == "TOKEN-2" and tokens.refreshes == 1
        assert await next_of(events, LiveAgain) == LiveAgain(TOPIC, again=True)
        await fake.push(order_insert("fresh"))
        assert (await next_of(events, ChangeEvent)).change.record.number == "fresh"


async def test_refreshed_token_is_pushed_on_the_next_heartbeat(fake: FakePhoenix) -> None:
    tokens = Tokens()
    conn = make_connection(fake.url, tokens)
    async with conn:
        await live(conn)
        tokens.token = "TOKEN-ROTATED"  # the session refreshed itself ahead of expiry
        _, push = await fake.next_frame("access_token")
        assert push["payload"] == {"access_token": "TOKEN-ROTATED"} and push["join_ref"] == fake.join_ref


async def test_failing_handlers_are_isolated(fake: FakePhoenix, caplog: pytest.LogCaptureFixture) -> None:
    conn = make_connection(fake.url)
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    async def broken_async(event: Event) -> None:
        raise RuntimeError("async handler bug")

    conn.add_handler(broken)
    conn.add_handler(broken_async)
    conn.add_handler(seen.append)
    events = conn.events()
    async with conn:
        await live(conn)
        for n in ("1", "2"):
            await fake.push(order_insert(n))
            await next_of(events, ChangeEvent)
        # An unparseable change is delivered raw, not dropped and not fatal.
        await fake.push({"table": "orders", "type": "INSERT", "record": {"id": "nope"}})
        raw = await next_of(events, ChangeEvent)
        assert isinstance(raw.change, RawChange)
        assert conn.state.value is ConnectionState.LIVE
    numbers = [e.change.record.number for e in seen if isinstance(e, ChangeEvent) and isinstance(e.change, OrderChange)]
    assert numbers == ["1", "2"]
    assert "handler bug" in caplog.text and "async handler bug" in caplog.text


async def test_server_down_goes_offline_and_never_gives_up() -> None:
    fake = FakePhoenix()
    await fake.start()
    port = fake.port
    await fake.stop()  # nothing listens there now: connections are refused
    conn = make_connection(f"http://127.0.0.1:{port}", offline_after_s=0.3)
    states: list[ConnectionState] = []
    conn.state.subscribe(states.append)
    try:
        await conn.start()
        started = time.monotonic()
        await asyncio.wait_for(conn.state.wait_for(ConnectionState.OFFLINE), TIMEOUT_S)
        assert time.monotonic() - started < 2.0
        await fake.start(port)
        await live(conn)
        assert states == [ConnectionState.OFFLINE, ConnectionState.JOINING, ConnectionState.LIVE]
    finally:
        await conn.close()
        await fake.stop()


async def test_close_is_clean_while_reconnecting(fake: FakePhoenix) -> None:
    # Closing in the middle of a backoff sleep or a token fetch leaves no task and no warning behind
    # (the suite turns un-awaited coroutine warnings into errors).
    conn = make_connection(fake.url)
    await conn.start()
    await live(conn)
    fake.drop()
    await asyncio.wait_for(conn.state.wait_for(ConnectionState.RECONNECTING), TIMEOUT_S)
    await conn.close()
    assert conn.state.value is ConnectionState.OFFLINE
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and "realtime" in t.get_name()]
    assert others == []
