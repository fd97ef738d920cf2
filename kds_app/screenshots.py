"""`kds --screenshots DIR`: the real app on the embedded default, fed a realistic service, photographed.

Everything is real: the companion runs in-process on SQLite in a temporary directory, a POS sends the
orders over HTTP, the screens sync them over the websocket, and the taps go through the same code as a
cook's finger. Writes station.png (with a bump-bar selection), expo.png, all_day.png, ready_board.png,
recall.png and offline.png (1920 by 1080), and station and expo at 1366 by 768 (`*-1366x768.png`, and their
second pages).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole, ItemStatus, OrderIntake, OrderItemIntake, OrderItemsAddition
from sync.realtime.connection import ConnectionState

from . import theme
from .app import Session
from .card_layout import RUSH
from .config import AppConfig
from .connect import build_engine_config
from .demo_orders import service
from .embedded import EmbeddedCompanion
from .main_thread_gc import MainThreadGC
from .ready_board import ReadyBoard

SIZE = (1920, 1080)
SMALL = (1366, 768)
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
        # A coursed table: starters now, the mains held until the starters are bumped (or expo fires them).
        # Sent six minutes ago, so it sits mid-rail rather than among the newest orders.
        sent = datetime.now(UTC) - timedelta(minutes=6)
        coursed = OrderIntake(number="T9", table_label="9", guests=4, server_name="Ana", created_at=sent, items=[
            OrderItemIntake(name="Soup of the day", station="saute", course=1, quantity=2),
            OrderItemIntake(name="Ribeye", station="grill", course=2, held=True, modifiers=["medium rare"]),
            OrderItemIntake(name="Half chicken", station="grill", course=2, held=True),
        ])
        response = await http.post("/api/v1/orders", json=coursed.model_dump(mode="json"),
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
    session.window.grid.relayout()
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
                # Expo rushes a young order (two taps), and the grill has run out of something on a ticket.
                young = expo.screen.model.tickets()[-4]  # not one of the newest: the board shot finishes those
                expo.screen.control(young.key, RUSH)
                expo.screen.control(young.key, RUSH)
                sold_out = next(
                    i.name for t in tickets[4:] for i in t.order.order_items if i.status is ItemStatus.new
                )
                grill.screen.eighty_six(sold_out)
                grill.screen.eighty_six("Calamari")
                async with asyncio.timeout(TIMEOUT_S):
                    await grill.engine.queue_depth.wait_for(0)
                    async with expo.engine.changes() as changes:
                        while not any(
                            i.status is ItemStatus.done
                            for t in expo.screen.model.tickets()
                            for i in t.order.order_items
                        ):
                            await changes.get()
                    async with grill.engine.changes() as changes:
                        while grill.screen.model.tickets()[0].order.id != young.order.id:
                            await changes.get()
                    await expo.engine.eighty_sixed.wait_for(lambda names: len(names) == 2)
                grill.screen.model.select(grill.screen.model.tickets()[1].key)  # the bump bar's cursor
                _grab(grill, out / "station.png")
                _grab(expo, out / "expo.png")
                for session, name in ((grill, "station"), (expo, "expo")):  # a 15" kitchen screen, too
                    session.window.resize(*SMALL)
                    _grab(session, out / f"{name}-1366x768.png")
                    session.window.grid.page_by(1)
                    _grab(session, out / f"{name}-1366x768-page2.png")
                    session.window.grid.set_page(0)
                    session.window.resize(*SIZE)
                _grab_features(expo, out / "features.png")
                grill.window.top.all_day.setChecked(True)
                _grab(grill, out / "all_day.png")
                grill.window.top.all_day.setChecked(False)
                await _shoot_board(expo, out / "ready_board.png")
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


def _grab_features(expo: Session, path: Path) -> None:
    """Expo at the coursed table (FIRE COURSE 2 on its card) with the 86 panel open."""
    model = expo.screen.model
    row = next(r for r, t in enumerate(model.tickets()) if t.order.number == "T9")
    expo.window.top.eighty_six.setChecked(True)
    expo.window.grid.relayout()
    expo.window.grid.show_ticket(model.tickets()[row].key)
    _grab(expo, path)
    expo.window.top.eighty_six.setChecked(False)


async def _shoot_board(expo: Session, path: Path) -> None:
    """The customer board, after expo finished the last two orders (so READY has numbers too)."""
    for ticket in expo.screen.model.tickets()[-2:]:
        for item in ticket.order.order_items:
            if item.status in (ItemStatus.new, ItemStatus.cooking) and not item.held:
                expo.screen.item(ticket.key, item.id)
    board = ReadyBoard(expo.engine)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await expo.engine.queue_depth.wait_for(0)
            async with expo.engine.changes() as changes:
                while len(board.ready_numbers()) < 2:
                    await changes.get()
        board.resize(*SIZE)
        board.show()
        board.layout().activate()
        if not board.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        print(f"wrote {path}")  # noqa: T201 - the command's output
    finally:
        board.detach()
        board.close()
        board.deleteLater()


def write_screenshots(out: Path) -> int:
    import qasync

    out.mkdir(parents=True, exist_ok=True)
    qapp = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qapp, QApplication)
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
    qasync.run(_shoot(out))
    return 0
