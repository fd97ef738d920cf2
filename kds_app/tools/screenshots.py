"""`kds --screenshots DIR`: the real app on the embedded default, fed a realistic service, photographed.

Everything is real: the companion runs in-process on SQLite in a temporary directory, a POS sends the
orders over HTTP, the screens sync them over the websocket, and the taps go through the same code as a
cook's finger. One command writes the set at 1920 by 1080 (`NAME.png`) and at 1366 by 768
(`NAME-1366x768.png`): station (with a bump-bar selection), expo (whole cards), expo-compact (one row an order),
recall, settings (the dialog over the window, fitted to the screen), pairing (the settings just after pairing
with a code `kds-backend pair` printed), fire_timing (countdowns on the grill's cards; fire_timing-expo.png too),
offline and ready_board; and station and expo's second pages at 1366 by
768, features.png (expo at a coursed table with the 86 panel open) and all_day.png; then the same kitchen on two
screens set to Amharic: station, expo, features, all_day, recall, ready_board, settings, pairing and offline as
`NAME-am.png` (Ethiopic script in the shipped Noto Sans Ethiopic).
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole, ItemStatus, OrderIntake, OrderItemIntake, OrderItemsAddition
from api_client.order_machine import can_strike
from sync import ConnectionState

from ..demo.demo_orders import service
from ..demo.demo_recipes import put_recipes
from ..media import theme
from ..media.language import use_language
from ..panels.ready_board import ReadyBoard
from ..panels.settings_dialog import SettingsDialog
from ..startup.config import AppConfig
from ..startup.connect import build_engine_config
from ..startup.embedded import LOCAL_RESTAURANT, EmbeddedCompanion
from ..startup.main_thread_gc import MainThreadGC
from ..startup.probe import check_connection, pair_with_code
from ..viewmodel.card_rules import RUSH
from ..windows.app import Session

AMHARIC_GRILL = AppConfig(view="station", stations=("grill",), language="am")
AMHARIC_EXPO = AppConfig(view="expo", language="am")
SPLIT_GRILL_EXPO = AppConfig(view="station", stations=("grill",), split="expo")
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


def _both(session: Session, out: Path, name: str) -> None:
    """`name`.png at 1920x1080 and `name`-1366x768.png, the window back at 1920x1080 after."""
    _grab(session, out / f"{name}.png")
    session.window.resize(*SMALL)
    _grab(session, out / f"{name}-1366x768.png")
    session.window.resize(*SIZE)


def _lay_out(session: Session) -> None:
    """Lay out what changed by hand (not processEvents(): that would run other tasks inside this one): the cards
    first, since they set the page bar's count ("page 1/10 · +13 more", cut at 1366 when laid out before it),
    then the bars, then the cards again in the room the bars left them."""
    window = session.window
    grids = [pane.grid for pane in window.panes]  # a split screen's two (issue 19, item 5)
    for grid in grids:
        grid.relayout()
    for layout in (window.top.layout(), window.centralWidget().layout(),
                   *(layout for grid in grids for layout in (grid.layout(), grid.page_bar.layout()))):
        layout.activate()
    for grid in grids:
        grid.relayout()


def _grab(session: Session, path: Path) -> None:
    session.window.tick()
    _lay_out(session)
    if not session.window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"wrote {path}")  # noqa: T201 - the command's output


async def _shoot(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp, MainThreadGC():
        companion = EmbeddedCompanion(Path(tmp) / "companion")
        companion.start()
        try:
            await put_recipes(companion)  # so all_day.png shows the ingredient counts too
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
                _both(grill, out, "station")
                _both(expo, out, "expo")
                expo.window.set_compact(True)
                _both(expo, out, "expo-compact")
                expo.window.set_compact(False)
                for session, name in ((grill, "station"), (expo, "expo")):  # a 15" kitchen screen's second page
                    session.window.resize(*SMALL)
                    session.window.grid.page_by(1)
                    _grab(session, out / f"{name}-1366x768-page2.png")
                    session.window.grid.set_page(0)
                    session.window.resize(*SIZE)
                _grab_features(expo, out / "features.png")
                grill.window.top.all_day.setChecked(True)
                _grab(grill, out / "all_day.png")
                grill.window.top.all_day.setChecked(False)
                await _shoot_board(expo, out)
                grill.window.top.recall.setChecked(True)
                _both(grill, out, "recall")
                grill.window.top.recall.setChecked(False)
                await _shoot_settings(grill, companion, out)
                await _shoot_fire_timing(companion, grill, expo, out)
                # Split screen (issue 19, item 5): the grill's tickets beside expo's whole orders, on one display.
                split = await _session(companion, Path(tmp) / "split", SPLIT_GRILL_EXPO)
                try:
                    split.window.switch_pane()  # the expo pane lit: the bump bar's keys act on it
                    _both(split, out, "split")
                finally:
                    await split.stop()
                use_language("am")  # the same kitchen on two more screens set to Amharic
                grill_am = await _session(companion, Path(tmp) / "grill-am", AMHARIC_GRILL)
                expo_am = await _session(companion, Path(tmp) / "expo-am", AMHARIC_EXPO)
                try:
                    await _shoot_amharic(grill_am, expo_am, companion, out)
                    companion.stop()
                    async with asyncio.timeout(TIMEOUT_S):
                        await grill.engine.connection_state.wait_for(ConnectionState.OFFLINE)
                        await grill_am.engine.connection_state.wait_for(ConnectionState.OFFLINE)
                    ticket = grill.screen.model.tickets()[0]
                    grill.screen.action(ticket.key)
                    grill.screen.action(ticket.key)  # bumped offline: saved here, waiting to sync
                    _both(grill_am, out, "offline-am")
                    # The words drawn on the cards and the bars follow the language in force: English again for
                    # the English screen's shot (it was laid out while Amharic was on).
                    use_language("en")
                    for pane in grill.window.panes:
                        pane.grid.delegate.forget_layouts()
                        pane.grid.relayout(remeasure=True)
                    grill.window.update_status()
                    _both(grill, out, "offline")
                finally:
                    await grill_am.stop()
                    await expo_am.stop()
                    use_language("en")
            finally:
                await grill.stop()
                await expo.stop()
        finally:
            companion.stop()


async def _shoot_amharic(grill: Session, expo: Session, companion: EmbeddedCompanion, out: Path) -> None:
    """The views again with the screens set to Amharic (`NAME-am.png`): every word on them in Ethiopic script, in
    the shipped Noto Sans Ethiopic, fitting where the English fits."""
    grill.screen.action(grill.screen.model.tickets()[2].key)  # BUMP touched once: the second tap's words
    grill.screen.model.select(grill.screen.model.tickets()[1].key)
    async with asyncio.timeout(TIMEOUT_S):
        await grill.engine.eighty_sixed.wait_for(lambda names: len(names) == 2)
    _both(grill, out, "station-am")
    _both(expo, out, "expo-am")
    _grab_features(expo, out / "features-am.png")
    grill.window.top.all_day.setChecked(True)
    _grab(grill, out / "all_day-am.png")
    grill.window.top.all_day.setChecked(False)
    grill.window.top.recall.setChecked(True)
    _both(grill, out, "recall-am")
    grill.window.top.recall.setChecked(False)
    await _shoot_board(expo, out, suffix="-am")
    await _shoot_settings(grill, companion, out, suffix="-am")


FIRE_TIMED = {"Tomahawk steak": 14 * 60, "Grilled asparagus": 6 * 60, "Braised short rib": 20 * 60,
              "Grilled corn": 4 * 60}
"""Prep times for two tables' dishes only (the rest of the service stays untimed): fire_timing.png."""


async def _shoot_fire_timing(companion: EmbeddedCompanion, grill: Session, expo: Session, out: Path) -> None:
    """Fire timing (issue 19 item 1): F1's asparagus waits on its tomahawk with a countdown on the grill's card; F2's
    corn waits on the saute's short rib, so the grill's whole ticket is held with FIRE NOW; expo shows both orders'
    countdowns (`fire_timing.png`, `fire_timing-1366x768.png`, `fire_timing-expo.png`)."""
    admin = await companion.token_provider(DeviceRole.admin, "admin-screenshots").get_token()
    pos = await companion.token_provider(DeviceRole.pos, "pos-screenshots", ()).get_token()
    async with httpx.AsyncClient(base_url=companion.url, headers={"apikey": companion.anon_key}) as http:
        for dish, seconds in FIRE_TIMED.items():
            response = await http.put(f"/api/v1/prep-times/{quote(dish, safe='')}", json={"seconds": seconds},
                                      headers={"Authorization": f"Bearer {admin}"})
            response.raise_for_status()
        for number, table, dishes in (("F1", "4", (("Tomahawk steak", "grill"), ("Grilled asparagus", "grill"))),
                                      ("F2", "6", (("Braised short rib", "saute"), ("Grilled corn", "grill")))):
            order = OrderIntake(number=number, table_label=table, guests=2, items=[
                OrderItemIntake(name=name, station=station) for name, station in dishes
            ])
            response = await http.post("/api/v1/orders", json=order.model_dump(mode="json"), headers={
                "Authorization": f"Bearer {pos}", "Idempotency-Key": str(uuid.uuid4())})
            response.raise_for_status()
    async with asyncio.timeout(TIMEOUT_S):
        for session in (grill, expo):
            async with session.engine.changes() as changes:
                while sum(t.order.number in ("F1", "F2") for t in session.screen.model.tickets()) < 2:
                    await changes.get()
    for session in (grill, expo):
        shown = next(t for t in session.screen.model.tickets() if t.order.number == "F1")
        session.window.grid.relayout()
        session.window.grid.show_ticket(shown.key)
    _both(grill, out, "fire_timing")
    _grab(expo, out / "fire_timing-expo.png")


def _grab_features(expo: Session, path: Path) -> None:
    """Expo at the coursed table (FIRE COURSE 2 on its card) with the 86 panel open."""
    model = expo.screen.model
    row = next(r for r, t in enumerate(model.tickets()) if t.order.number == "T9")
    expo.window.top.eighty_six.setChecked(True)
    expo.window.grid.relayout()
    expo.window.grid.show_ticket(model.tickets()[row].key)
    _grab(expo, path)
    expo.window.top.eighty_six.setChecked(False)


def _grab_dialog(session: Session, dialog: SettingsDialog, size: tuple[int, int], path: Path) -> None:
    """The window at `size` with the dialog over it, fitted to a screen of that size as the app fits it."""
    session.window.resize(*size)
    dialog.fit_to(QRect(0, 0, *size))
    dialog.layout().activate()
    session.window.tick()
    _lay_out(session)
    shot = session.window.grab()
    painter = QPainter(shot)
    try:
        painter.drawPixmap(QPoint(dialog.x(), dialog.y()), dialog.grab())
    finally:
        painter.end()
    if not shot.save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"wrote {path}")  # noqa: T201 - the command's output
    session.window.resize(*SIZE)


def _pairing_code(companion: EmbeddedCompanion) -> str:
    """A code as an installer gets it: `kds-backend pair` on the hub's database."""
    command = shutil.which("kds-backend", path=str(Path(sys.executable).parent)) or shutil.which("kds-backend")
    if command is None:
        raise OSError("kds-backend is not installed beside this Python")
    done = subprocess.run(
        [command, "pair", "--restaurant", LOCAL_RESTAURANT, "--station", "grill",
         "--database-url", f"sqlite:///{companion.data_dir / 'companion.db'}"],
        capture_output=True, text=True, check=True, timeout=TIMEOUT_S,
    )
    return next(line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("pairing code: "))


async def _shoot_settings(grill: Session, companion: EmbeddedCompanion, out: Path, suffix: str = "") -> None:
    """SETTINGS as a cook opens it, then as an installer leaves it after pairing a screen with a code."""
    # As the app opens it (Test connection asks the server), with the shots' patience: the machine making them
    # may be busy, and a photograph is not a test of the hub's speed.
    dialog = SettingsDialog(
        grill.config, grill.window, known_stations=await grill.ask_stations(),
        checker=functools.partial(check_connection, timeout_s=TIMEOUT_S),
        pairer=functools.partial(pair_with_code, timeout_s=TIMEOUT_S),
    )
    try:
        dialog.show()
        for size, size_suffix in ((SIZE, ""), (SMALL, "-1366x768")):
            _grab_dialog(grill, dialog, size, out / f"settings{size_suffix}{suffix}.png")
        hub = companion.url.removeprefix("http://")
        dialog.pair_code_edit.setText(f"{hub} {_pairing_code(companion)}")  # pasted as the hub printed it
        if await dialog.pair() is None:
            raise RuntimeError(f"pairing failed: {dialog.error_label.text()}")
        for size, size_suffix in ((SIZE, ""), (SMALL, "-1366x768")):
            _grab_dialog(grill, dialog, size, out / f"pairing{size_suffix}{suffix}.png")
    finally:
        dialog.close()
        dialog.deleteLater()


async def _shoot_board(expo: Session, out: Path, suffix: str = "") -> None:
    """The customer board, after expo finished the last two orders (so READY has numbers too)."""
    for ticket in expo.screen.model.tickets()[-2:]:
        for item in ticket.order.order_items:
            if can_strike(item):
                expo.screen.item(ticket.key, item.id)
    board = ReadyBoard(expo.bridge)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await expo.engine.queue_depth.wait_for(0)
            async with expo.engine.changes() as changes:
                while len(board.ready_numbers()) < 2:
                    await changes.get()
        board.show()
        shots = ((SIZE, out / f"ready_board{suffix}.png"), (SMALL, out / f"ready_board-1366x768{suffix}.png"))
        for size, path in shots:
            board.resize(*size)
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
    use_language("en")  # and the shipped fonts, as the app loads them
    qasync.run(_shoot(out))
    return 0
