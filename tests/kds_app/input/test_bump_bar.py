"""The bump bar / keyboard on a live screen: key presses sent to the window the way a USB bump bar sends
them, against a real companion process."""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_app.viewmodel.ticket_model import ticket_key
from tests.helpers.app_screens import item_statuses, on_screen, pos_order, screen, server_order, synced
from tests.helpers.bump_bar_keys import Key, press, selected
from tests.kds_app.conftest import until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow







async def test_number_then_bump_bumps_that_ticket_and_recall_brings_it_back(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = [await pos_order(companion.url, str(300 + n), [("Burger", "grill")]) for n in range(3)]
        await until(grill.engine, lambda: all(on_screen(grill, m) for m in made))
        grid = grill.window.grid

        await press(grid, Key.Key_2)  # the second ticket on screen, outlined
        assert selected(grill) == ticket_key(made[1], "grill")
        await press(grid, Key.Key_Return)
        assert not on_screen(grill, made[1]) and on_screen(grill, made[0]) and on_screen(grill, made[2])
        assert selected(grill) == ticket_key(made[2], "grill")  # the next ticket slid into its place
        await synced(grill)
        assert item_statuses(await server_order(companion.url, made[1])) == {"Burger": "done"}

        await press(grid, Key.Key_Asterisk)  # recall the last bumped
        assert on_screen(grill, made[1]) and selected(grill) == ticket_key(made[1], "grill")
        await synced(grill)
        assert item_statuses(await server_order(companion.url, made[1])) == {"Burger": "cooking"}


async def test_arrows_move_the_selection_and_a_bounce_or_held_key_bumps_once(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = [await pos_order(companion.url, str(310 + n), [("Burger", "grill")]) for n in range(3)]
        await until(grill.engine, lambda: all(on_screen(grill, m) for m in made))
        grid = grill.window.grid
        await press(grid, Key.Key_Return)  # nothing selected: the first press only selects
        assert selected(grill) == ticket_key(made[0], "grill") and on_screen(grill, made[0])
        await press(grid, Key.Key_Right)
        await press(grid, Key.Key_Right)
        await press(grid, Key.Key_Left)
        assert selected(grill) == ticket_key(made[1], "grill")

        assert grill.keys is not None
        grill.keys._monotonic = lambda: 100.0  # two presses in the same instant: a bouncing contact
        await press(grid, Key.Key_Return)
        await press(grid, Key.Key_Return)
        assert not on_screen(grill, made[1]) and on_screen(grill, made[2])
        clock = iter([200.0, 300.0])  # a long time apart: only the repeat flag can stop the second
        grill.keys._monotonic = lambda: next(clock)
        await press(grid, Key.Key_Enter, auto_repeat=True)  # a held keypad Enter: the repeats are ignored
        assert not on_screen(grill, made[2]) and on_screen(grill, made[0])
        await synced(grill)


async def test_page_keys_turn_the_grid_s_pages_and_the_all_day_key_opens_the_panel(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        lines = [("Burger", "grill"), ("Steak", "grill"), ("Wings", "grill"), ("Ribs", "grill")]
        made = [await pos_order(companion.url, str(320 + n), lines) for n in range(16)]
        await until(grill.engine, lambda: all(on_screen(grill, m) for m in made))
        grid = grill.window.grid
        grid.relayout()  # the grid lays out on its next idle turn; the test needs it now
        assert grid.page_count() > 1 and grid.page() == 0

        await press(grid, Key.Key_1)
        await press(grid, Key.Key_PageDown)
        assert grid.page() == 1 and f"page 2/{grid.page_count()}" in grid.page_bar.label.text()
        keys = grill.keys
        assert keys is not None
        # The selection followed the page: it never stays on a ticket on another page.
        assert selected(grill) in keys.visible_keys() and selected(grill) != ticket_key(made[0], "grill")
        await press(grid, Key.Key_Minus)  # the keypad's page up
        assert grid.page() == 0
        await press(grid, Key.Key_Down)  # from the selection down (or on to the next page), never off the screen
        assert selected(grill) in keys.visible_keys()

        await press(grid, Key.Key_Slash)
        assert grill.window.all_day.isVisible() and grill.window.all_day.quantities()["Burger"] == 16
        await press(grid, Key.Key_A)
        assert not grill.window.all_day.isVisible()


async def test_a_custom_key_map_from_the_settings_works(companion: LiveServer, tmp_path: Path) -> None:
    keymap = {"bump": "Space", "select_1": "F1", "select_2": "F2"}
    async with screen(companion, tmp_path, "r1-kds-grill-1", keymap=keymap) as grill:
        made = [await pos_order(companion.url, str(340 + n), [("Burger", "grill")]) for n in range(2)]
        await until(grill.engine, lambda: all(on_screen(grill, m) for m in made))
        grid = grill.window.grid
        await press(grid, Key.Key_F2)
        assert selected(grill) == ticket_key(made[1], "grill")
        await press(grid, Key.Key_Return)  # no longer the bump key
        assert on_screen(grill, made[1])
        await press(grid, Key.Key_Space)
        assert not on_screen(grill, made[1])
        await synced(grill)
        assert item_statuses(await server_order(companion.url, made[1])) == {"Burger": "done"}
