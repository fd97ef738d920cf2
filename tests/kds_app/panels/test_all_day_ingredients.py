"""The all-day panel counts ingredients through recipes (issue 19 item 4), on a live screen: orders raise the
counts, a strike on another screen and a bump lower them, an admin's recipe change recounts at once, and with the
server away the counts still come (from the local store) and follow the cook's taps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.realtime.connection import ConnectionState
from tests.conftest import token_for
from tests.helpers.app_screens import on_screen, pos_order, screen, synced, tap_action, tap_item
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

RECIPES = {
    "Double burger": [{"ingredient": "patty", "quantity": 2}, {"ingredient": "bun", "quantity": 1}],
    "Burger": [{"ingredient": "patty", "quantity": 1}, {"ingredient": "bun", "quantity": 1}],
}


async def set_recipe(url: str, item: str, lines: list[dict[str, Any]]) -> None:
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin')}"}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.put(f"/api/v1/recipes/{item}", json={"ingredients": lines}, headers=headers)
    assert r.status_code == 200, r.text


async def test_ingredients_follow_orders_strikes_bumps_recipe_changes_and_hold_offline(
    companion: LiveServer, tmp_path: Path
) -> None:
    for item, lines in RECIPES.items():
        await set_recipe(companion.url, item, lines)
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-kds-grill-2", at=1) as other,
    ):
        button = grill.window.top.all_day
        await tap(button, button.rect().center())
        panel = grill.window.all_day
        assert panel.ingredient_quantities() == {} and not panel.ingredients_view.isVisible()

        doubles = await pos_order(
            companion.url, "300",
            [{"name": "Double burger", "station": "grill", "quantity": 3}, {"name": "Fries", "station": "fry"}],
        )
        single = await pos_order(companion.url, "301", [("burger", "grill"), ("Steak", "grill")])  # any case
        await until(grill.engine, lambda: on_screen(grill, doubles) and on_screen(grill, single))
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.recipes.wait_for(lambda book: len(book) == 2)
        await until(grill.engine, lambda: panel.ingredient_quantities() == {"patty": 7, "bun": 4})
        assert panel.quantities() == {"Double burger": 3, "burger": 1, "Steak": 1}  # the items, as before
        assert panel.ingredients_view.isVisible()
        assert [line.name for line in panel.ingredients.lines()] == ["patty", "bun"]  # largest first

        await until(other.engine, lambda: on_screen(other, single))
        await tap_item(other, single, "burger")  # struck on the other grill screen
        await synced(other)
        await until(grill.engine, lambda: panel.ingredient_quantities() == {"patty": 6, "bun": 3})

        # The kitchen manager changes the recipe: the counts follow without any ticket changing.
        await set_recipe(companion.url, "Double burger", [{"ingredient": "patty", "quantity": 3},
                                                          {"ingredient": "bun", "quantity": 1}])
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.recipes.wait_for(lambda book: ("patty", 3) in book.get("double burger", ()))
        assert panel.ingredient_quantities() == {"patty": 9, "bun": 3}

        companion.kill()  # the server goes away: counted from the local store and the cook's own taps
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE)
        assert panel.ingredient_quantities() == {"patty": 9, "bun": 3}
        await tap_action(grill, doubles)
        await tap_action(grill, doubles)  # bumped offline: the patties are off the count in the same frame
        assert panel.ingredient_quantities() == {}
        assert not panel.ingredients_view.isVisible() and panel.quantities() == {"Steak": 1}
