"""Two companion instances on one PostgreSQL database: a change committed through either reaches the
subscribers of both, once each and in commit order (change log + LISTEN/NOTIFY, `realtime/pg_listener.py`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from realtime import AsyncRealtimeClient

from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import Inbox, create_order, delete_order, start_order
from tests.live_server import LiveServer
from tests.pg_cluster import PgCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_names = itertools.count()


@pytest.fixture
def two_instances(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    url = pg_cluster.create_database(f"two{next(_names)}", template="kds_template")
    servers: list[LiveServer] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(LiveServer(tmp_path / name, url, JWT_SECRET))
        for server in servers:
            server.wait_ready()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


async def subscribed(server: LiveServer, device: str) -> tuple[AsyncRealtimeClient, Inbox]:
    client = AsyncRealtimeClient(f"{server.url}/realtime/v1", token_for("kds", device=device))
    inbox, system = Inbox(), Inbox()
    channel = client.channel("orders-feed")
    channel.on_postgres_changes("*", inbox, table="orders", filter="restaurant_id=eq.r1")
    channel.on_system(system)
    await channel.subscribe()
    assert (await system.next()).message == "Subscribed to PostgreSQL"
    return client, inbox


async def test_changes_cross_instances(two_instances: tuple[LiveServer, LiveServer]) -> None:
    a, b = two_instances
    on_a, inbox_a = await subscribed(a, "r1-kds-a")
    on_b, inbox_b = await subscribed(b, "r1-kds-b")
    try:
        async with httpx.AsyncClient(base_url=a.url) as via_a, httpx.AsyncClient(base_url=b.url) as via_b:
            first = await create_order(via_a, "r1", "A1")
            await create_order(via_b, "r2", "B1")  # another restaurant: crosses instances, reaches no one
            second = await create_order(via_b, "r1", "A2")
            await start_order(via_a, "r1", second["id"])
            await delete_order(via_b, "r1", first["id"])
            expected = [
                ("INSERT", first["id"]),
                ("INSERT", second["id"]),
                ("UPDATE", second["id"]),
                ("DELETE", first["id"]),
            ]
            for inbox in (inbox_a, inbox_b):
                events = await inbox.take(len(expected))
                got = [
                    (e["data"]["type"].value, (e["data"].get("record") or e["data"]["old_record"])["id"])
                    for e in events
                ]
                assert got == expected
                assert inbox.queue.empty()
    finally:
        await on_a.close()
        await on_b.close()


async def test_changes_still_cross_after_the_database_drops_every_connection(
    two_instances: tuple[LiveServer, LiveServer], pg_cluster: PgCluster
) -> None:
    a, b = two_instances
    on_b, inbox_b = await subscribed(b, "r1-kds-b")
    try:
        async with httpx.AsyncClient(base_url=a.url) as via_a:
            before = await create_order(via_a, "r1", "A1")
            assert [e["data"]["record"]["id"] for e in await inbox_b.take(1)] == [before["id"]]
            # Every instance loses its PostgreSQL connections at once: pools and both change listeners.
            database = a.database_url.rsplit("/", 1)[1]
            with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (database,)
                ).fetchone()
            assert killed is not None and killed[0] >= 2
            after = await create_order(via_a, "r1", "A2")  # the pool reconnects (pre-ping) and commits
            events = await inbox_b.take(1)  # B's listener reconnects and reads the change log from its last seq
            assert [(e["data"]["type"].value, e["data"]["record"]["id"]) for e in events] == [("INSERT", after["id"])]
            assert inbox_b.queue.empty()
    finally:
        await on_b.close()
