"""A whole engine against a live companion: its config for a device, a running engine, waiting on its changes,
POS orders, and what a station shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import httpx

from api_client.models import DeviceRole, OrderWithItems
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key
from sync.engine.engine import EngineConfig, SyncEngine
from tests.conftest import JWT_SECRET, token_for
from tests.helpers.timeouts import scaled
from tests.kds_backend.realtime.support import create_order

TIMEOUT_S = scaled(20.0)
APIKEY = issue_anon_key(JWT_SECRET)


def config(url: str, data_dir: Path, device: str, station: str = "grill") -> EngineConfig:
    return EngineConfig(
        url=url,
        anon_key=APIKEY,
        restaurant_id="r1",
        device_id=device,
        role=DeviceRole.kds,
        stations=(station,),
        token_provider=StaticTokenProvider(token_for("kds", device=device, stations=[station])),
        data_path=data_dir / f"{device}.db",
    )


# An order for every kind of station: two grill items, one each for the fryer, the cold and the pastry station.
FIVE_STATION_ITEMS = [
    {"name": "Burger", "category": "grill"},
    {"name": "Steak", "category": "grill"},
    {"name": "Fries", "category": "fryer"},
    {"name": "Salad", "category": "cold"},
    {"name": "Cake", "category": "pastry"},
]


def expo_config(url: str, data_dir: Path) -> EngineConfig:
    """Expo's engine: every station's items of every order."""
    base = config(url, data_dir, "r1-expo-1")
    return EngineConfig(
        **{
            **base.__dict__,
            "role": DeviceRole.expo,
            "stations": (),
            "token_provider": StaticTokenProvider(token_for("expo", device="r1-expo-1")),
        }
    )


@asynccontextmanager
async def running(url: str, data_dir: Path, device: str, station: str = "grill") -> AsyncIterator[SyncEngine]:
    engine = SyncEngine(config(url, data_dir, device, station))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


@asynccontextmanager
async def caught_up(url: str, data_dir: Path, device: str, station: str = "grill") -> AsyncIterator[SyncEngine]:
    """A `running` station screen once its first catch-up is done (it shows what the server has)."""
    async with running(url, data_dir, device, station) as engine:
        async with asyncio.timeout(TIMEOUT_S):
            await engine.caught_up.wait_for(True)
        yield engine


async def until(engine: SyncEngine, ready: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    """Wait for change notifications until `ready()` holds; checked after each one, never by sleeping."""
    async with engine.changes() as changes:
        async with asyncio.timeout(timeout_s):
            while not ready():
                await changes.get()


async def pos_orders(url: str, numbers: list[str]) -> list[UUID]:
    async with httpx.AsyncClient(base_url=url) as http:
        return [UUID((await create_order(http, "r1", n))["id"]) for n in numbers]


def shown(engine: SyncEngine, order_id: UUID, station: str | None = "grill") -> OrderWithItems | None:
    """The order as the station displays it: on the rail, or (all its items bumped) in the recall drawer."""
    drawer = [o for o, _ in engine.recently_bumped(station)]
    return next((o for o in [*engine.open_tickets(station), *drawer] if o.id == order_id), None)
