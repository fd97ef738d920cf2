"""A screen with its own printer (issue 19 item 3) through a live companion that stops: once the screen has
reached no server for `offline_print_after_s`, its open ticket prints on its printer (a loopback ESC/POS listener,
off at first: the slip waits and goes out when it is on), once, also after the app starts again; the card says
PRINTED, and still does when the server is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from pytestqt.qtbot import QtBot

from api_client.models import DeviceRole
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.viewmodel.ticket_model import ticket_key
from kds_app.windows.app import Session
from sync.realtime.connection import ConnectionState
from tests.helpers.app_screens import on_screen, pos_order
from tests.helpers.timeouts import scaled
from tests.kds_app.conftest import engine_config, until
from tests.kds_backend.printing.escpos_printer import LoopbackPrinter
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

TIMEOUT_S = scaled(30.0)
AFTER_S = 5  # the least the setting allows


@pytest.fixture
async def printer() -> AsyncIterator[LoopbackPrinter]:
    made = LoopbackPrinter()  # refusing: the printer is off until the test turns it on
    yield made
    made.close()


def card_tags(session: Session, order_id: UUID) -> list[tuple[str, str | None]]:
    pane = session.window.panes[0]
    ticket = pane.screen.ticket(ticket_key(order_id, "grill"))
    assert ticket is not None
    return [(block.item.name, block.tag) for block in pane.grid.delegate.layout_for(ticket).items]


async def started(config: AppConfig, tmp_path: Path, url: str) -> Session:
    connection = Connection(engine_config(url, tmp_path, "r1-kds-grill-1", DeviceRole.kds, ("grill",)))
    session = Session.create(config, connection, sound=AlertSound(False))
    await session.start(fullscreen=False)
    return session


async def test_a_screen_that_reaches_no_server_prints_its_open_tickets_once_on_its_own_printer(
    companion: LiveServer, printer: LoopbackPrinter, tmp_path: Path, qtbot: QtBot
) -> None:
    config = AppConfig(
        view="station", stations=("grill",), printer=f"127.0.0.1:{printer.port}", offline_print_after_s=AFTER_S
    )
    session = await started(config, tmp_path, companion.url)
    try:
        assert session.printer is not None
        async with asyncio.timeout(TIMEOUT_S):
            await session.engine.caught_up.wait_for(True)
        burger = {"name": "Burger", "station": "grill", "modifiers": ["no onion"], "allergens": ["sesame"]}
        made = await pos_order(companion.url, "401", [burger, {"name": "Fries", "station": "fry"}])
        await until(session.engine, lambda: on_screen(session, made))
        assert session.printer.looks.value == 0, "a screen that reaches its server prints nothing"

        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await session.engine.connection_state.wait_for(ConnectionState.OFFLINE)
            # On paper after AFTER_S; the printer is off, so the slip waits for it.
            await session.printer.failures.wait_for(lambda n: n >= 1)
        assert printer.slips == [] and session.printer.printed_items.value == frozenset()
        assert card_tags(session, made) == [("Burger", None)]

        await printer.listen()
        [slip] = await printer.wait_for(1, TIMEOUT_S)
        assert slip.lines[0].text.strip() == "GRILL" and slip.line("#401").bold
        assert "1 x Burger" in slip.text and "+ no onion" in slip.text and "! ALLERGY: sesame" in slip.text
        assert "Fries" not in slip.text, "the fry station's item is not on the grill's slip"
        assert slip.lines[-1].text.startswith("OFFLINE COPY")
        async with asyncio.timeout(TIMEOUT_S):
            await session.printer.printed_items.wait_for(bool)
        qtbot.waitUntil(lambda: card_tags(session, made) == [("Burger", "PRINTED")], timeout=int(TIMEOUT_S * 1000))
    finally:
        await session.stop()

    # The app starts again, still without a server: the record says the ticket is on paper already.
    session = await started(config, tmp_path, companion.url)
    back: LiveServer | None = None
    try:
        assert session.printer is not None
        assert card_tags(session, made) == [("Burger", "PRINTED")]
        async with asyncio.timeout(TIMEOUT_S):
            await session.printer.looks.wait_for(lambda n: n >= 1)  # on paper again, and looked
        assert session.printer.waiting == 0 and len(printer.slips) == 1, "printed once, not again after the restart"

        back = companion.restarted()
        await asyncio.to_thread(back.wait_ready)
        async with asyncio.timeout(TIMEOUT_S):
            await session.engine.connection_state.wait_for(ConnectionState.LIVE)
            await session.engine.caught_up.wait_for(True)
        assert card_tags(session, made) == [("Burger", "PRINTED")], "the server is back: the card still says so"
        assert len(printer.slips) == 1 and printer.connections == 1
    finally:
        await session.stop()
        if back is not None:
            back.stop()
