"""`kds --screenshots DIR`: the real app on the embedded default, fed a realistic service, photographed.

Everything is real: the companion runs in-process on SQLite in a temporary directory, a POS sends the
orders over HTTP, the screens sync them over the websocket, and the taps go through the same code as a
cook's finger. Writes station.png, expo.png, recall.png and offline.png (1920 by 1080).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole, ItemStatus, OrderItemIntake, OrderItemsAddition
from sync.realtime.connection import ConnectionState

from . import theme
from .app import Session
from .config import AppConfig
from .connect import build_engine_config
from .demo_orders import service
from .embedded import EmbeddedCompanion
from .main_thread_gc import MainThreadGC

SIZE = (1920, 1080)
TIMEOUT_S = 30.0


async def _post_service(companion: EmbeddedCompanion) -> list[str]:
    tokens = companion.token_provider(DeviceRole.pos, "pos-screenshots", ())
    headers = {"apikey": companion.anon_key, "Authorization": f"Bearer {await tokens.get_token()}"}
    ids = []
    async with httpx.AsyncClient(base_url=companion.url, headers=headers) as http:
        for order in service(14, spread_s=11 * 60):
            response = await http.post(
                "/api/v1/orders", json=order.model_dump(mode="json"), headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
        # A table adds a dish after the ticket went to the kitchen: it must stand out until acknowledged.
        extra = OrderItemsAddition(items=[OrderItemIntake(name="Cheeseburger", station="grill", modifiers=["no onion"],
                                                          allergens=["gluten", "dairy"])])
        response = await http.post(f"/api/v1/orders/{ids[-3]}/items", json=extra.model_dump(mode="json"),
                                   headers={"Idempotency-Key": str(uuid.uuid4())})
        response.raise_for_status()
    return ids


async def _session(companion: EmbeddedCompanion, data_dir: Path, config: AppConfig) -> Session:
    connection = await build_engine_config(config, data_dir, embedded=companion)
    session = Session.create(config, connection)
    session.sound.enabled = False
    await session.start(fullscreen=False)
    session.window.resize(*SIZE)
    async with asyncio.timeout(TIMEOUT_S):
        await session.engine.caught_up.wait_for(True)
        async with session.engine.changes() as changes:
            while session.screen.model.rowCount() < 3:
                await changes.get()
    return session


def _grab(session: Session, path: Path) -> None:
    session.window.tick()
    # Not processEvents(): that would run other tasks inside this one; lay out what changed by hand instead.
    for layout in (session.window.top.layout(), session.window.centralWidget().layout()):
        layout.activate()
    session.window.grid.doItemsLayout()
    if not session.window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"wrote {path}")  # noqa: T201 - the command's output


async def _shoot(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp, MainThreadGC():
        companion = EmbeddedCompanion(Path(tmp) / "companion")
        companion.start()
        try:
            await _post_service(companion)
            grill = await _session(companion, Path(tmp) / "grill", AppConfig(view="station", stations=("grill",)))
            expo = await _session(companion, Path(tmp) / "expo", AppConfig(view="expo"))
            try:
                tickets = grill.screen.model.tickets()
                # The cook has struck an item on the oldest ticket and bumped the next two.
                first = tickets[0]
                open_item = next(i for i in first.order.order_items if i.status is not ItemStatus.done)
                grill.screen.item(first.key, open_item.id)
                for ticket in tickets[1:3]:
                    grill.screen.action(ticket.key)
                    grill.screen.action(ticket.key)
                # ...and has touched BUMP once on the fourth, which now asks for the confirming tap.
                grill.screen.action(tickets[3].key)
                async with asyncio.timeout(TIMEOUT_S):
                    await grill.engine.queue_depth.wait_for(0)
                    async with expo.engine.changes() as changes:
                        while not any(
                            i.status is ItemStatus.done
                            for t in expo.screen.model.tickets()
                            for i in t.order.order_items
                        ):
                            await changes.get()
                _grab(grill, out / "station.png")
                _grab(expo, out / "expo.png")
                grill.window.top.recall.setChecked(True)
                _grab(grill, out / "recall.png")
                grill.window.top.recall.setChecked(False)
                companion.stop()
                async with asyncio.timeout(TIMEOUT_S):
                    await grill.engine.connection_state.wait_for(ConnectionState.OFFLINE)
                ticket = grill.screen.model.tickets()[0]
                grill.screen.action(ticket.key)
                grill.screen.action(ticket.key)  # bumped offline: saved here, waiting to sync
                _grab(grill, out / "offline.png")
            finally:
                await grill.stop()
                await expo.stop()
        finally:
            companion.stop()


def write_screenshots(out: Path) -> int:
    import qasync

    out.mkdir(parents=True, exist_ok=True)
    qapp = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qapp, QApplication)
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
    qasync.run(_shoot(out))
    return 0
