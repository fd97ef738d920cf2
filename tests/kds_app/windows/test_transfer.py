"""MOVE (issue 19, item 2) driven with touch taps through two screens and a real companion process: a ticket moved
from the grill leaves the grill's rail at once and shows on the fry's; one item moved back from the fry shows on
the grill again; CANCEL sends nothing; made offline it moves at once and is applied once after the server
returns."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from PySide6.QtCore import QPoint

from kds_app.viewmodel.ticket_model import ticket_key
from kds_app.windows.app import Session
from kds_app.windows.main_window import MOVE_ARMED_TEXT, MOVE_TEXT
from sync.realtime.connection import ConnectionState
from tests.helpers.app_controls import tap_move, tap_station
from tests.helpers.app_screens import (
    Chime,
    on_screen,
    pos_order,
    screen,
    server_order,
    synced,
    tap_action,
    tap_item,
)
from tests.helpers.bump_bar_keys import Key, press
from tests.kds_app.conftest import TIMEOUT_S, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

LINES = [{"name": "Burger", "station": "grill"}, {"name": "Steak", "station": "grill"},
         {"name": "Fries", "station": "fry"}]


def names(session: Session, order_id: UUID, station: str) -> list[str]:
    ticket = session.screen.ticket(ticket_key(order_id, station))
    return sorted(i.name for i in ticket.order.order_items) if ticket is not None else []


def stations_of(order: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {i["name"]: (i["station"], i["version"]) for i in order["order_items"]}


async def test_a_ticket_moved_from_the_grill_shows_on_the_fry_screen_and_an_item_comes_back(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1", chime=(chime := Chime())) as grill,
        screen(companion, tmp_path, "r1-kds-fry-1", stations=("fry",), at=1) as fry,
    ):
        await grill.ask_stations()  # the kitchen's stations, as GET /api/v1/stations says (start asks it too)
        order = await pos_order(companion.url, "300", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        await until(fry.engine, lambda: on_screen(fry, order, "fry"))

        # MOVE, a tap on the ticket, CANCEL: nothing is sent and the screen is back to bumping.
        await tap_move(grill)
        assert grill.window.move_button.text() == MOVE_ARMED_TEXT
        await tap_action(grill, order)
        picker = grill.window.picker
        assert picker.isVisible() and picker.title.text() == "Move #300 from GRILL to:"
        # The kitchen's stations (the default routes' and the devices'), never the one it is at.
        assert {"fry", "cold", "kitchen"} <= set(picker.buttons) and "grill" not in picker.buttons
        await tap(picker.cancel, picker.cancel.rect().center())
        assert not picker.isVisible() and not grill.window.move_button.isChecked()
        assert grill.window.move_button.text() == MOVE_TEXT
        assert grill.engine.queue_depth.value == 0 and names(grill, order, "grill") == ["Burger", "Steak"]

        await tap_move(grill)
        await tap_action(grill, order)
        await tap_station(grill, "fry")
        assert not on_screen(grill, order)  # gone from the grill in the same frame, before any network
        assert not picker.isVisible() and not grill.window.move_button.isChecked()
        await until(fry.engine, lambda: names(fry, order, "fry") == ["Burger", "Fries", "Steak"])
        await synced(grill)

        # The fry cook sends the burger back: one item, from the fry screen.
        fry.window.grid.relayout()  # the card grew under the model's change: laid out as before the next paint
        await tap_move(fry)
        await tap_item(fry, order, "Burger", "fry")
        assert fry.window.picker.title.text() == "Move Burger of #300 from FRY to:"
        chimes = len(chime.played)
        await tap_station(fry, "grill")
        assert names(fry, order, "fry") == ["Fries", "Steak"]
        await until(grill.engine, lambda: names(grill, order, "grill") == ["Burger"])
        assert len(chime.played) == chimes + 1  # a ticket new to the grill's rail: the grill cook hears it come
        await synced(fry)
        assert grill.engine.rejected() == [] and fry.engine.rejected() == []
        assert stations_of(await server_order(companion.url, order)) == {
            "Burger": ("grill", 3), "Steak": ("fry", 2), "Fries": ("fry", 1)
        }


async def test_expo_moves_the_open_items_of_a_whole_order(companion: LiveServer, tmp_path: Path) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        await expo.ask_stations()
        order = await pos_order(companion.url, "305", LINES)
        await until(expo.engine, lambda: on_screen(expo, order, None))
        await until(grill.engine, lambda: on_screen(grill, order))
        await tap_item(expo, order, "Fries", None)  # struck on expo: done, so it stays at the fry
        await tap_move(expo)
        await tap_action(expo, order, None)
        assert expo.window.picker.title.text() == "Move the open items of #305 to:"
        assert "grill" in expo.window.picker.buttons  # expo is at no station: every one is offered
        await tap_station(expo, "cold")
        ticket = expo.screen.ticket(ticket_key(order, None))
        assert ticket is not None
        moved = {i.name: i.station for i in ticket.order.order_items}
        assert moved == {"Burger": "cold", "Steak": "cold", "Fries": "fry"}
        await until(grill.engine, lambda: not on_screen(grill, order))
        await synced(expo)
        assert expo.engine.rejected() == []


async def test_an_item_already_done_does_not_open_the_picker(companion: LiveServer, tmp_path: Path) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        order = await pos_order(companion.url, "301", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        await tap_item(grill, order, "Burger")  # struck: done
        await tap_move(grill)
        await tap_item(grill, order, "Burger")
        assert not grill.window.picker.isVisible()
        assert grill.window.notice.isVisible() and "only items still to cook can move" in grill.window.notice.text()


async def test_the_bump_bar_moves_the_selected_ticket_with_the_number_of_the_station(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        await grill.ask_stations()
        order = await pos_order(companion.url, "303", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        grid, picker = grill.window.grid, grill.window.picker
        await press(grid, Key.Key_1)  # select the first ticket
        await press(grid, Key.Key_0)  # MOVE
        assert picker.isVisible() and picker.title.text() == "Move #303 from GRILL to:"
        n = picker.stations.index("fry") + 1
        assert picker.buttons["fry"].text() == f"{n}  FRY"  # the number to press is on the button
        await press(grid, Key.Key_0)  # MOVE again closes it: nothing sent, nothing bumped
        assert not picker.isVisible() and not grill.window.move_button.isChecked()
        await press(grid, Key.Key_Return)  # ...and the keys act on the tickets again: Enter bumps
        assert not on_screen(grill, order)
        await synced(grill)
        assert {i["name"]: i["status"] for i in (await server_order(companion.url, order))["order_items"]} == {
            "Burger": "done", "Steak": "done", "Fries": "new"
        }

        again = await pos_order(companion.url, "304", LINES)
        await until(grill.engine, lambda: on_screen(grill, again))
        await press(grid, Key.Key_1)
        await press(grid, Key.Key_0)
        await press(grid, getattr(Key, f"Key_{picker.stations.index('fry') + 1}"))  # the fry's number
        assert not picker.isVisible() and not on_screen(grill, again)
        await synced(grill)
        assert stations_of(await server_order(companion.url, again)) == {
            "Burger": ("fry", 2), "Steak": ("fry", 2), "Fries": ("fry", 1)
        }


async def test_a_move_made_offline_shows_at_once_and_is_applied_once_after_the_server_returns(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        await grill.ask_stations()
        order = await pos_order(companion.url, "302", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.connection_state.wait_for(ConnectionState.OFFLINE)

        await tap_move(grill)
        await tap_action(grill, order)
        assert "fry" in grill.window.picker.buttons  # the list asked while online is still there
        await tap_station(grill, "fry")
        assert not on_screen(grill, order) and grill.engine.queue_depth.value == 1

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(grill)
            assert grill.engine.rejected() == [] and not on_screen(grill, order)
            assert stations_of(await server_order(restarted.url, order)) == {
                "Burger": ("fry", 2), "Steak": ("fry", 2), "Fries": ("fry", 1)
            }
        finally:
            restarted.stop()


async def test_in_move_mode_a_tap_on_the_ticket_header_picks_the_whole_ticket(
    companion: LiveServer, tmp_path: Path
) -> None:
    """MOVE says "tap a ticket"; under a real X server a tap on the card's number did nothing (only its items and
    BUMP answered). The header picks the whole ticket; outside MOVE it still does nothing."""
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        await grill.ask_stations()
        order = await pos_order(companion.url, "310", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        grid = grill.window.grid
        key = ticket_key(order, "grill")
        header = grid.visual_rect(key).topLeft() + QPoint(40, 20)  # on "#310", above the first item
        await tap(grid.viewport(), header)
        assert not grill.window.picker.isVisible() and on_screen(grill, order), "outside MOVE a header tap does nothing"
        await tap_move(grill)
        await tap(grid.viewport(), header)
        picker = grill.window.picker
        assert picker.isVisible() and picker.title.text() == "Move #310 from GRILL to:"
        await tap_station(grill, "fry")
        assert not on_screen(grill, order)  # gone from the grill at once
        await synced(grill)
        assert grill.engine.rejected() == []
        assert stations_of(await server_order(companion.url, order)) == {
            "Burger": ("fry", 2), "Steak": ("fry", 2), "Fries": ("fry", 1)
        }
