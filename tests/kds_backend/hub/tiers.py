"""Three tiers on loopback: an upstream companion, a hub companion in front of it behind a proxy that can be cut
(the hub's internet link), and sync engines as screens on either side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import sqlalchemy as sa

from api_client.models import DeviceRole, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key, issue_token
from kds_backend.db.engine import make_engine
from kds_backend.db.tables import intent_ledger
from sync.engine.engine import EngineConfig, SyncEngine
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.timeouts import scaled
from tests.live_server import LiveServer
from tests.reply_loss_proxy import ReplyLossProxy
from tests.tcp_proxy import TcpProxy

TIMEOUT_S = scaled(60.0)  # a reconnect after a heal can take 20 s (open timeout + backoff) on a loaded machine
START_S = 90.0  # a server's start, with migrations and (for a hub) its sign-in upstream, on a loaded CI machine
HUB_SECRET = "hub-secret-for-tests-only-0123456789abcdef"
UPSTREAM_KEY = issue_anon_key(JWT_SECRET)
HUB_KEY = issue_anon_key(HUB_SECRET)


def hub_env(upstream_url: str) -> dict[str, str]:
    return {
        "KDS_UPSTREAM_URL": upstream_url,
        "KDS_UPSTREAM_ANON_KEY": UPSTREAM_KEY,
        "KDS_UPSTREAM_TOKEN": token_for("admin", device="r1-hub", ttl_s=24 * 3600),
        # A pulled cable is noticed within 2 s, so forwarding resumes quickly once the link is back.
        "KDS_UPSTREAM_HEARTBEAT_S": "1",
    }


@dataclass
class Tiers:
    upstream: LiveServer
    link: TcpProxy
    """The hub's internet link: `blackhole()` is a pulled cable, `restore()` plugs it back."""
    hub: LiveServer
    tmp: Path
    replies: ReplyLossProxy | None = None
    """Between the hub and its link when a test loses chosen replies (after upstream acted on the request)."""

    async def restart_hub(self, *, kill: bool) -> None:
        if kill:
            self.hub.kill()
        else:
            self.hub.stop()
        self.hub = self.hub.restarted()
        await asyncio.to_thread(self.hub.wait_ready, START_S)


def start_server(directory: Path, secret: str, env: dict[str, str] | None = None) -> LiveServer:
    directory.mkdir(parents=True, exist_ok=True)
    return LiveServer(directory, f"sqlite:///{directory / 'companion.db'}", secret, env=env)


@asynccontextmanager
async def three_tiers(
    tmp: Path,
    upstream_database: str | None = None,
    *,
    lose_reply: Callable[[bytes], bool] | None = None,
    on_lost: Callable[[bytes], object] = lambda _reply: None,
    account: Callable[[LiveServer], Awaitable[dict[str, str]]] | None = None,
) -> AsyncIterator[Tiers]:
    """`upstream_database`: the upstream companion's database URL (default SQLite); `lose_reply(request_line)`:
    which of the hub's requests upstream answers into the void; `account(upstream)`: the hub's upstream account
    variables, made once upstream runs (default: an admin token)."""
    (tmp / "upstream").mkdir(parents=True, exist_ok=True)
    database = upstream_database or f"sqlite:///{tmp / 'upstream' / 'companion.db'}"
    upstream = LiveServer(tmp / "upstream", database, JWT_SECRET)
    link: TcpProxy | None = None
    replies: ReplyLossProxy | None = None
    hub: LiveServer | None = None
    try:
        await asyncio.to_thread(upstream.wait_ready, START_S)
        link = TcpProxy("127.0.0.1", upstream.port)
        await link.start()
        upstream_url = link.url
        if lose_reply is not None:
            replies = ReplyLossProxy("127.0.0.1", int(link.url.rsplit(":", 1)[1]), lose=lose_reply, on_lost=on_lost)
            await replies.start()
            upstream_url = replies.url
        env = hub_env(upstream_url)
        if account is not None:
            del env["KDS_UPSTREAM_TOKEN"]
            env.update(await account(upstream))
        hub = start_server(tmp / "hub", HUB_SECRET, env)
        await asyncio.to_thread(hub.wait_ready, START_S)
        tiers = Tiers(upstream, link, hub, tmp, replies)
        try:
            yield tiers
        finally:
            tiers.hub.stop()
            tiers.upstream.stop()  # a test may have restarted either
    finally:
        if hub is not None:
            hub.stop()
        if replies is not None:
            await replies.stop()
        if link is not None:
            await link.stop()
        upstream.stop()


def hub_token(role: DeviceRole, device: str | None = None) -> str:
    """A token of one of the hub's own devices (the LAN's screens and POS)."""
    subject = device or f"r1-{role.value}-lan"
    return issue_token(HUB_SECRET, restaurant_id="r1", device_role=role, subject=subject, stations=[], ttl_s=3600)


def screen_config(url: str, data_dir: Path, device: str, role: DeviceRole, *, hub: bool) -> EngineConfig:
    if hub:
        token = hub_token(role, device)
    else:
        token = issue_token(JWT_SECRET, restaurant_id="r1", device_role=role, subject=device, stations=[], ttl_s=3600)
    return EngineConfig(
        url=url,
        anon_key=HUB_KEY if hub else UPSTREAM_KEY,
        restaurant_id="r1",
        device_id=device,
        role=role,
        token_provider=StaticTokenProvider(token),
        data_path=data_dir / f"{device}.sqlite3",
    )


@asynccontextmanager
async def screen(url: str, data_dir: Path, device: str, role: DeviceRole = DeviceRole.kds, *, hub: bool = True
                 ) -> AsyncIterator[SyncEngine]:
    engine = SyncEngine(screen_config(url, data_dir, device, role, hub=hub))
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        yield engine
    finally:
        await engine.stop()


async def until(engine: SyncEngine, ready: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    """Wait on the engine's change notifications until `ready()` holds (checked after each, never by sleeping)."""
    async with engine.changes() as changes, asyncio.timeout(timeout_s):
        while not ready():
            await changes.get()


def order_on(engine: SyncEngine, order_id: UUID) -> OrderWithItems | None:
    return engine.shown_orders([order_id])[order_id]


def item_status(engine: SyncEngine, order_id: UUID, name: str) -> str | None:
    """None while the screen does not show that line (its order's rows may arrive before the item's)."""
    order = order_on(engine, order_id)
    if order is None:
        return None
    return next((i.status.value for i in order.order_items if i.name == name), None)


def whole(engine: SyncEngine, order_id: UUID) -> bool:
    """The screen shows the POS order with both its lines (`order_body`: a Burger and Fries)."""
    return item_status(engine, order_id, "Burger") is not None and item_status(engine, order_id, "Fries") is not None


def item_id(engine: SyncEngine, order_id: UUID, name: str) -> UUID:
    order = order_on(engine, order_id)
    assert order is not None
    return next(i.id for i in order.order_items if i.name == name)


async def patch_item(url: str, item: UUID, values: dict[str, Any]) -> None:
    """What a POS does upstream (void a line): a PostgREST PATCH with its own token."""
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.patch(
            "/rest/v1/order_items", params={"id": f"eq.{item}"}, json=values, headers=auth_headers(token_for("pos"))
        )
        assert r.status_code in (200, 204), r.text


def ledger(server: LiveServer) -> dict[UUID, tuple[str, str, int, str | None]]:
    """A server's intent ledger: intent id -> (device, status, device_seq, reason)."""
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    intent_ledger.c.intent_id,
                    intent_ledger.c.device_id,
                    intent_ledger.c.status,
                    intent_ledger.c.device_seq,
                    intent_ledger.c.reason,
                )
            )
            return {r.intent_id: (r.device_id, r.status, r.device_seq, r.reason) for r in rows}
    finally:
        engine.dispose()
