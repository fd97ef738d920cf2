"""The write path over real sockets against `kds-backend serve` (SQLite and PostgreSQL): offline taps drain
exactly once after the server returns, a `kill -9` of the engine mid-upload loses and doubles nothing, and a
rejected intent stays visible with its reason while its optimistic effect is undone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from api_client.backoff import Backoff
from api_client.client import KdsApiClient
from api_client.models import DeviceRole, ItemStatus, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key
from kds_backend.db.engine import make_engine
from kds_backend.db.tables import intent_ledger
from sync.engine.outbox import Outbox
from sync.engine.uploader import Uploader
from sync.store import LocalStore, outbox_rows, read_rows, server_rows
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.kds_backend.realtime.support import create_order
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

TIMEOUT_S = scaled(30.0)
DEVICE = "r1-kds-grill-1"
TOKEN = token_for("kds", device=DEVICE, stations=["grill"])
APIKEY = issue_anon_key(JWT_SECRET)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id=DEVICE)
    yield s
    s.close()


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[KdsApiClient]:
    async with KdsApiClient(live_server.url, APIKEY, StaticTokenProvider(TOKEN)) as client:
        yield client


async def seed_orders(url: str, api: KdsApiClient, store: LocalStore, count: int) -> list[OrderWithItems]:
    """Orders made at the POS, then read as the screen's read path would store them."""
    async with httpx.AsyncClient(base_url=url) as http:
        made = {UUID((await create_order(http, "r1", f"W{n}"))["id"]) for n in range(count)}
    orders = [o for o in await api.select_orders_since(0, limit=1000) if o.id in made]
    assert len(orders) == count
    with store.transaction() as conn:
        for order in orders:
            read_rows.save_order(conn, order)
    return orders


def same_rows(a: OrderWithItems, b: OrderWithItems) -> bool:
    """Equal rows, whatever order the items are listed in."""
    items = {i.id: i for i in a.order_items}, {i.id: i for i in b.order_items}
    return a.model_copy(update={"order_items": []}) == b.model_copy(update={"order_items": []}) and items[0] == items[1]


def burger(order: OrderWithItems) -> UUID:
    return next(i.id for i in order.order_items if i.name == "Burger")


def tap_bump_unbump(outbox: Outbox, orders: list[OrderWithItems], per_order: int) -> None:
    """Alternate bump/unbump of each Burger: applying any one twice would be rejected, so doubles show."""
    for n in range(per_order):
        for order in orders:
            kind = "bump_item" if n % 2 == 0 else "unbump_item"
            outbox.submit(kind, order.id, item_id=burger(order), station="grill")


def ledger(database_url: str) -> list[sa.Row]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.select(intent_ledger.c.device_seq, intent_ledger.c.status).where(
                intent_ledger.c.device_id == DEVICE
            )
            return list(conn.execute(query))
    finally:
        engine.dispose()


async def server_orders(api: KdsApiClient, orders: list[OrderWithItems]) -> dict[UUID, OrderWithItems]:
    wanted = {o.id for o in orders}
    return {o.id: o for o in await api.select_orders_since(0, limit=1000) if o.id in wanted}


async def test_offline_taps_drain_exactly_once_when_the_server_returns(
    live_server: LiveServer, api: KdsApiClient, store: LocalStore
) -> None:
    orders = await seed_orders(live_server.url, api, store, 10)
    live_server.kill()
    outbox = Outbox(store, DeviceRole.kds)
    uploader = Uploader(store, api, batch_size=200, backoff=Backoff(0.05, 0.3), watchdog_s=0.1)
    outbox.on_submit(lambda i: uploader.queued(store.clock()))  # as SyncEngine.submit does
    restarted: LiveServer | None = None
    try:
        await uploader.start()
        started, first_tap_not_before = time.monotonic(), store.clock()
        tap_bump_unbump(outbox, orders, 10)  # 100 bumps and unbumps, with the server down
        assert time.monotonic() - started < 5.0, "taps never wait on the network"
        for order in orders:
            shown = outbox.shown_order(order.id)
            assert shown is not None and len(shown.applied) == 10 and shown.skipped == []
        assert uploader.queue_depth.value == 100
        await asyncio.wait_for(uploader.last_error.wait_for(lambda e: e is not None), TIMEOUT_S)
        oldest = uploader.oldest_pending_at.value
        assert uploader.queue_depth.value == 100 and oldest is not None
        assert first_tap_not_before <= oldest <= store.clock(), "the oldest waiting tap is the first one"
        age = uploader.oldest_pending_age_s()
        assert age is not None and 0 <= age <= store.clock() - first_tap_not_before

        restarted = live_server.restarted()
        await asyncio.to_thread(restarted.wait_ready)
        await asyncio.wait_for(uploader.queue_depth.wait_for(0), TIMEOUT_S)
        assert uploader.last_error.value is None and outbox.rejected() == []
    finally:
        await uploader.stop()
        if restarted is not None:
            restarted.stop()

    rows = ledger(live_server.database_url)
    assert len(rows) == 100 and {r.status for r in rows} == {"applied"}
    restarted = live_server.restarted()
    await asyncio.to_thread(restarted.wait_ready)
    try:
        on_server = await server_orders(api, orders)
    finally:
        restarted.stop()
    for order in orders:
        item = next(i for i in on_server[order.id].order_items if i.id == burger(order))
        assert item.version == 11 and item.status is ItemStatus.cooking  # created, then exactly 10 changes
        with store.transaction() as conn:
            local = server_rows.load_order(conn, order.id)
        assert local is not None
        assert same_rows(local, on_server[order.id]), "local rows caught up with the server's"


def read_until(stream: IO[bytes], wanted: str, lines: list[str]) -> None:
    while True:
        line = stream.readline().decode().strip()
        assert line, f"engine exited early; it said {lines}"
        lines.append(line)
        if line.startswith(wanted):
            return


def engine_proc(db: Path, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sync.engine.engine_proc", str(db), url, APIKEY, TOKEN, "10", *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


async def test_engine_killed_mid_upload_loses_nothing_and_applies_nothing_twice(
    live_server: LiveServer, api: KdsApiClient, store: LocalStore
) -> None:
    orders = await seed_orders(live_server.url, api, store, 20)
    tap_bump_unbump(Outbox(store, DeviceRole.kds), orders, 20)  # 400 intents, sent 10 per batch
    db = store.path
    store.close()

    first = engine_proc(db, live_server.url, "5")
    said: list[str] = []
    try:
        assert first.stdout is not None
        # Batch 5 is applied on the server and its answer is in the engine, not yet recorded: kill -9 now.
        await asyncio.to_thread(read_until, first.stdout, "answered 5 ", said)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
        if first.stdout:
            first.stdout.close()
    assert said[-1] == "answered 5 applied=10 duplicate=0"
    assert len(ledger(live_server.database_url)) == 50

    with LocalStore(db) as reopened:
        assert reopened.integrity_check() == "ok"
        with reopened.transaction() as conn:
            entries = outbox_rows.unsettled(conn)
        assert len(entries) == 360 and {e.state for e in entries[:10]} == {"inflight"}

    second = engine_proc(db, live_server.url)
    said = []
    try:
        assert second.stdout is not None
        await asyncio.to_thread(read_until, second.stdout, "drained", said)
    finally:
        second.wait(timeout=30)
        if second.stdout:
            second.stdout.close()
    assert second.returncode == 0
    assert said[0] == "answered 1 applied=0 duplicate=10", "the unrecorded batch is resent and deduplicated"
    assert all(line.endswith("applied=10 duplicate=0") for line in said[1:-1]) and len(said) == 37

    rows = ledger(live_server.database_url)
    assert len(rows) == 400 and {r.status for r in rows} == {"applied"}
    assert len({r.device_seq for r in rows}) == 400
    on_server = await server_orders(api, orders)
    for order in orders:
        item = next(i for i in on_server[order.id].order_items if i.id == burger(order))
        assert item.version == 21 and item.status is ItemStatus.cooking
    with LocalStore(db) as reopened, reopened.transaction() as conn:
        assert outbox_rows.unsettled(conn) == [] and outbox_rows.rejected(conn) == []


async def test_rejected_intent_stays_visible_and_its_effect_is_undone(
    live_server: LiveServer, api: KdsApiClient, store: LocalStore
) -> None:
    [order] = await seed_orders(live_server.url, api, store, 1)
    outbox = Outbox(store, DeviceRole.kds)
    bump = outbox.submit("bump_item", order.id, item_id=burger(order), station="grill")
    shown = outbox.shown_order(order.id)
    assert shown is not None
    assert next(i for i in shown.order.order_items if i.id == burger(order)).status is ItemStatus.done

    async with httpx.AsyncClient(base_url=live_server.url) as http:  # meanwhile the POS voids the burger
        r = await http.patch(
            "/rest/v1/order_items",
            params={"id": f"eq.{burger(order)}"},
            json={"status": "voided"},
            headers=auth_headers(token_for("pos")),
        )
        assert r.status_code in (200, 204), r.text

    async with Uploader(store, api) as uploader:
        await asyncio.wait_for(uploader.queue_depth.wait_for(0), TIMEOUT_S)
    [rejected] = outbox.rejected()
    assert rejected.intent == bump and rejected.reason == "Burger was voided"
    shown = outbox.shown_order(order.id)
    assert shown is not None and shown.applied == [] and shown.skipped == []
    assert next(i for i in shown.order.order_items if i.id == burger(order)).status is ItemStatus.voided
    assert [(r.status) for r in ledger(live_server.database_url)] == ["rejected"]
