"""A real screen (the app's Session and window) against a live companion, the POS orders it shows, and a cook's taps
on its items and BUMP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api_client.models import DeviceRole
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.viewmodel.ticket_model import ticket_key
from kds_app.windows.app import Session
from tests.conftest import token_for
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, engine_config, tap
from tests.live_server import LiveServer


class Chime:
    """Stands in for the audio player: records what would have been played."""

    def __init__(self) -> None:
        self.played: list[Path] = []

    def __call__(self, sound: Path) -> bool:
        self.played.append(sound)
        return True


@asynccontextmanager
async def screen(
    server: LiveServer,
    data_dir: Path,
    device: str,
    *,
    expo: bool = False,
    chime: Chime | None = None,
    at: int = 0,
    stations: tuple[str, ...] = ("grill",),
    **settings: Any,
) -> AsyncIterator[Session]:
    """A screen's window; `at` staggers it against the others (touches go to each window's own handle);
    `settings` are further `AppConfig` fields, as a kitchen's config file would set them."""
    stations = () if expo else stations
    role = DeviceRole.expo if expo else DeviceRole.kds
    config = AppConfig(view="expo" if expo else "station", stations=stations, **settings)
    connection = Connection(engine_config(server.url, data_dir, device, role, stations))
    session = Session.create(config, connection, sound=AlertSound(True, player=chime or Chime(), min_gap_s=0))
    await session.start(fullscreen=False)
    session.window.resize(1600, 900)
    session.window.move(at * 40, at * 40)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await session.engine.caught_up.wait_for(True)
        assert session.window.isVisible() and session.window.grid.isVisible()
        yield session
    finally:
        await session.stop()


async def pos_order(url: str, number: str, items: list[tuple[str, str]] | list[dict[str, Any]]) -> UUID:
    """A POS order; each item is (name, station), or a whole intake line (course, held, ...)."""

    def line(item: tuple[str, str] | dict[str, Any]) -> dict[str, Any]:
        if isinstance(item, dict):
            return item
        name, station = item
        return {"name": name, "station": station, "allergens": ["peanut"] if name == "Satay" else []}

    lines = [line(i) for i in items]
    body = {"number": number, "table_label": "12", "guests": 2, "items": lines}
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('pos')}", "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return UUID(r.json()["id"])


async def server_order(url: str, order_id: UUID) -> dict[str, Any]:
    headers = {
        "apikey": APIKEY,
        "Authorization": f"Bearer {token_for('admin')}",
        "Accept": "application/vnd.pgrst.object+json",
    }
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.get(
            "/rest/v1/orders", params={"id": f"eq.{order_id}", "select": "*,order_items(*)"}, headers=headers
        )
    assert r.status_code == 200, r.text
    return r.json()


def item_statuses(order: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["status"] for i in order["order_items"]}


def on_screen(session: Session, order_id: UUID, station: str | None = "grill", *, pane: int = 0) -> bool:
    """`pane`: which pane of a split screen (0: the first, the only one otherwise)."""
    model = session.window.panes[pane].screen.model
    return model.row_of(ticket_key(order_id, station)) is not None


def shown_item(session: Session, order_id: UUID, name: str, station: str | None = "grill", *, pane: int = 0) -> Any:
    ticket = session.window.panes[pane].screen.ticket(ticket_key(order_id, station))
    assert ticket is not None
    return next(i for i in ticket.order.order_items if i.name == name)


async def synced(session: Session) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        await session.engine.queue_depth.wait_for(0)


async def tap_item(
    session: Session, order_id: UUID, name: str, station: str | None = "grill", *, pane: int = 0
) -> None:
    grid = session.window.panes[pane].grid
    point = grid.point_of(ticket_key(order_id, station), shown_item(session, order_id, name, station, pane=pane).id)
    await tap(grid.viewport(), point)


async def tap_action(session: Session, order_id: UUID, station: str | None = "grill", *, pane: int = 0) -> None:
    grid = session.window.panes[pane].grid
    await tap(grid.viewport(), grid.point_of(ticket_key(order_id, station)))
