"""Split screen (issue 19, item 5) through a real companion process: one window, two panes side by side, each with
its own filter and its own pages. The grill and fry panes each list their station's tickets and page on their own;
a bump on a station pane shows on the expo pane beside it at once; started on the NEW pane, a ticket moves to IN
PROGRESS, offline too, and those taps reach the server once when it returns. The split window fits 1366x768."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QPushButton

from api_client.models import DeviceRole
from kds_app.media import theme
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.windows.app import Session
from kds_app.windows.main_window import offline_text
from kds_app.windows.pane import NAME_MAX_MIN_PX
from sync.realtime.connection import ConnectionState
from tests.helpers.app_screens import (
    item_statuses,
    on_screen,
    pos_order,
    screen,
    server_order,
    shown_item,
    synced,
    tap_action,
    tap_item,
)
from tests.helpers.bump_bar_keys import Key, press
from tests.kds_app.conftest import TIMEOUT_S, engine_config, tap, until
from tests.live_server import LiveServer

NARROW_SCREEN_PX = 1366
GRILL_LINES = [{"name": name, "station": "grill"} for name in ("Burger", "Steak", "Ribs", "Chops", "Wings", "Pork")]


def stations_on(session: Session, pane: int) -> set[str | None]:
    return {t.station for t in session.window.panes[pane].screen.model.tickets()}


@pytest.mark.slow
async def test_the_grill_and_fry_panes_each_show_their_station_and_page_on_their_own(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1", split=["fry"]) as split:
        window = split.window
        grill, fry = window.panes
        assert [p.label.text() for p in window.panes if p.label is not None] == ["GRILL", "FRY"]
        assert window.top.title.text() == "GRILL | FRY"
        both = await pos_order(companion.url, "400", [("Burger", "grill"), ("Fries", "fry")])
        fry_only = await pos_order(companion.url, "401", [("Onion rings", "fry")])
        # Tall grill tickets, enough for more than one page of the grill pane (the fry pane keeps one).
        grill_orders = [await pos_order(companion.url, str(410 + n), GRILL_LINES) for n in range(8)]
        await until(split.engine, lambda: all(on_screen(split, o) for o in grill_orders))
        assert on_screen(split, both, "grill") and on_screen(split, both, "fry", pane=1)
        assert on_screen(split, fry_only, "fry", pane=1) and not on_screen(split, fry_only, "fry")
        assert stations_on(split, 0) == {"grill"} and stations_on(split, 1) == {"fry"}
        grill.grid.relayout()
        fry.grid.relayout()
        assert grill.grid.page_count() > 1 and fry.grid.page_count() == 1

        # NEXT in the grill pane's page bar turns the grill's pages only.
        await tap(grill.grid.page_bar.next, grill.grid.page_bar.next.rect().center())
        assert grill.grid.page() == 1 and fry.grid.page() == 0
        # The bump bar's keys act on the lit pane; the pane key lights the other. Enter bumps the fry's first ticket.
        assert window.active is grill and grill.label is not None and grill.label.property("active") is True
        await press(grill.grid, Key.Key_Tab)
        assert window.active is fry and fry.label is not None and fry.label.property("active") is True
        await press(fry.grid, Key.Key_PageUp)
        assert grill.grid.page() == 1 and fry.grid.page() == 0, "the keys page the fry pane, not the grill's"
        await press(fry.grid, Key.Key_1)
        await press(fry.grid, Key.Key_Return)
        assert not on_screen(split, both, "fry", pane=1) and on_screen(split, both, "grill")
        # A touch on the grill pane makes it the one the keys act on.
        await tap_action(split, grill_orders[-1])
        assert window.active is grill
        await synced(split)
        assert item_statuses(await server_order(companion.url, both)) == {"Burger": "new", "Fries": "done"}


@pytest.mark.slow
async def test_a_bump_on_the_grill_pane_shows_on_the_expo_pane_beside_it_at_once(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1", split="expo") as split:
        order = await pos_order(companion.url, "420", [("Burger", "grill"), ("Fries", "fry")])
        await until(split.engine, lambda: on_screen(split, order) and on_screen(split, order, None, pane=1))
        assert split.window.top.title.text() == "GRILL | EXPO"
        assert shown_item(split, order, "Burger", None, pane=1).status.value == "new"
        await tap_action(split, order)
        await tap_action(split, order)  # the second tap bumps
        # On the expo pane in the same frame, before the server has answered anything.
        assert not on_screen(split, order)
        assert shown_item(split, order, "Burger", None, pane=1).status.value == "done"
        await synced(split)
        assert item_statuses(await server_order(companion.url, order)) == {"Burger": "done", "Fries": "new"}
        assert on_screen(split, order, None, pane=1)  # expo still waits on the fry


@pytest.mark.slow
async def test_offline_taps_move_a_ticket_from_new_to_in_progress_and_sync_once_after(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1", split="status") as split:
        assert [p.label.text() for p in split.window.panes if p.label is not None] == ["NEW", "IN PROGRESS"]
        order = await pos_order(companion.url, "430", [("Burger", "grill"), ("Steak", "grill")])
        other = await pos_order(companion.url, "431", [("Ribs", "grill")])
        await until(split.engine, lambda: on_screen(split, order) and on_screen(split, other))
        assert not on_screen(split, order, pane=1)
        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await split.engine.connection_state.wait_for(ConnectionState.OFFLINE)

        await tap_item(split, order, "Burger")  # started: off NEW, onto IN PROGRESS at once
        assert not on_screen(split, order) and on_screen(split, order, pane=1)
        await tap_action(split, order, pane=1)
        await tap_action(split, order, pane=1)
        assert not on_screen(split, order, pane=1) and on_screen(split, other)
        assert split.engine.queue_depth.value == 2

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(split)
            assert split.engine.rejected() == []
            made: dict[str, Any] = await server_order(restarted.url, order)
            assert item_statuses(made) == {"Burger": "done", "Steak": "done"}
            # Each tap applied once: the item bumped alone, then the rest with the ticket (one version step each).
            assert {i["name"]: i["version"] for i in made["order_items"]} == {"Burger": 2, "Steak": 2}
            assert not on_screen(split, order) and not on_screen(split, order, pane=1) and on_screen(split, other)
        finally:
            restarted.stop()


@pytest.fixture(params=[["fry", "cold"], "expo", "status"])
def split_session(request: pytest.FixtureRequest, tmp_path: Path, qapp: QApplication) -> Iterator[Session]:
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))  # sizes come from the theme, as in the app
    stations = ("grill", "saute")
    # Never started: the closed port is never dialled; only the widgets are under test.
    connection = Connection(engine_config("http://127.0.0.1:9", tmp_path, "r1-screen-1", DeviceRole.kds, stations))
    config = AppConfig(stations=stations, split=request.param)
    made = Session.create(config, connection, sound=AlertSound(False))
    yield made
    made.window.detach()
    made.window.close()
    made.engine.store.close()
    qapp.setStyleSheet("")


def test_a_split_window_fits_a_1366_pixel_screen_with_both_page_bars_whole(split_session: Session) -> None:
    window = split_session.window
    window.top.queue.setText("123 to sync · oldest 12:34")
    window.offline_banner.setText(offline_text(123, 754.0))
    window.offline_banner.setVisible(True)
    for pane in window.panes:  # a busy service's page count, the longest it gets
        pane.grid.page_bar.label.setText("page 12/17 · +160 more")
    window.resize(NARROW_SCREEN_PX, 768)
    window.show()
    for layout in (window.layout(), window.centralWidget().layout(), window.top.layout()):
        layout.activate()
    assert window.minimumSizeHint().width() <= NARROW_SCREEN_PX
    assert window.width() <= NARROW_SCREEN_PX
    for button in window.top.buttons:
        assert button.mapTo(window, button.rect().topRight()).x() <= NARROW_SCREEN_PX
    first, second = window.panes
    assert second.grid.mapTo(window, second.grid.rect().topRight()).x() <= NARROW_SCREEN_PX
    assert abs(first.grid.width() - second.grid.width()) < 40, "the two panes share the width"
    for pane in window.panes:
        bar = pane.grid.page_bar
        buttons = [b for b in bar.findChildren(QPushButton) if b.isVisible()]  # MOVE, COMPACT, ◀, ▶
        for widget in (*buttons, bar.label):
            assert widget.isVisible()
            assert widget.width() >= widget.sizeHint().width(), "the page bar's words are never cut"
        # A pane's name may be cut with "…" past NAME_MAX_MIN_PX ("GRILL · SA…"), never below it.
        assert pane.label is not None and pane.label.width() >= min(pane.label.sizeHint().width(), NAME_MAX_MIN_PX)


def test_at_1366_the_split_title_names_both_panes(split_session: Session) -> None:
    """At 1366x768 with a busy top bar the title read "GRILL | …": now both panes' names are drawn whole (one above
    the other when one line has no room), in a font no smaller than 0.4 of the title's, within the label."""
    window = split_session.window
    window.top.count.setText("48 open · 12 on hold")
    window.top.queue.setText("123 to sync · oldest 12:34")
    window.resize(NARROW_SCREEN_PX, 768)
    window.show()
    for layout in (window.layout(), window.centralWidget().layout(), window.top.layout()):
        layout.activate()
    assert window.width() <= NARROW_SCREEN_PX
    title = window.top.title
    if split_session.config.split == "status":
        return  # one name (the panes say NEW and IN PROGRESS): the title is the screen's stations, as before
    names = [pane.label.text() for pane in window.panes if pane.label is not None]
    shown = title.shown_text()
    assert shown.replace("\n", " | ") == " | ".join(names), "both names whole"
    font = title.shown_font(shown)
    assert font.pointSizeF() >= 0.4 * title.font().pointSizeF()
    fm = QFontMetrics(font)
    lines = shown.split("\n")
    assert max(fm.horizontalAdvance(line) for line in lines) <= title.contentsRect().width()
    assert fm.height() * len(lines) <= title.contentsRect().height(), "no line cut at the bar's edge"
