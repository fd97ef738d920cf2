"""The all-day panel on a live screen: it follows POS orders, strikes made on another screen, and bumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.app_screens import on_screen, pos_order, screen, synced, tap_action, tap_item
from tests.kds_app.conftest import tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


async def test_all_day_counts_follow_orders_strikes_elsewhere_and_bumps(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-kds-grill-2", at=1) as other,
    ):
        button = grill.window.top.all_day
        await tap(button, button.rect().center())
        panel = grill.window.all_day
        assert panel.isVisible() and panel.quantities() == {}

        first = await pos_order(companion.url, "200", [("Burger", "grill"), ("Steak", "grill"), ("Fries", "fry")])
        second = await pos_order(companion.url, "201", [("Burger", "grill")])
        await until(grill.engine, lambda: on_screen(grill, first) and on_screen(grill, second))
        assert panel.quantities() == {"Burger": 2, "Steak": 1}  # the fryer's fries are not the grill's work
        assert panel.model.lines()[0].name == "Burger"  # largest first

        await until(other.engine, lambda: on_screen(other, first))
        await tap_item(other, first, "Burger")  # struck on the other grill screen
        await synced(other)
        await until(grill.engine, lambda: panel.quantities() == {"Burger": 1, "Steak": 1})

        await tap_action(grill, second)
        await tap_action(grill, second)  # bumped here: the count drops in the same frame
        assert panel.quantities() == {"Steak": 1}

        await tap(panel.close_button, panel.close_button.rect().center())
        assert not panel.isVisible() and not button.isChecked()


async def test_expo_all_day_lists_every_station(companion: LiveServer, tmp_path: Path) -> None:
    async with screen(companion, tmp_path, "r1-expo-1", expo=True) as expo:
        expo.window.toggle_all_day()
        made = await pos_order(companion.url, "202", [("Burger", "grill"), ("Fries", "fry"), ("Fries", "fry")])
        panel = expo.window.all_day
        # The order's row can land a moment before its items: wait for the whole order, not the first sight.
        await until(expo.engine, lambda: on_screen(expo, made, None) and panel.quantities() == {"Burger": 1,
                                                                                                "Fries": 2})
        assert panel.model.show_station
        assert [(line.station, line.name, line.quantity) for line in panel.model.lines()] == [
            ("fry", "Fries", 2), ("grill", "Burger", 1)
        ]
