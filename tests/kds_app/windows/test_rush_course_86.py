"""Rush, coursing and 86 driven through the screens with touch taps, against a real companion process: what
one screen does shows on the others (and to the POS over REST), offline included."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from api_client.models import ItemStatus, Priority
from kds_app.viewmodel.card_rules import FIRE, RUSH
from kds_app.viewmodel.ticket_model import Role, ticket_key
from kds_app.windows.app import Session
from sync.realtime.connection import ConnectionState
from tests.conftest import token_for
from tests.helpers.app_controls import layout, tap_control
from tests.helpers.app_screens import (
    on_screen,
    pos_order,
    screen,
    server_order,
    shown_item,
    synced,
    tap_action,
    tap_item,
)
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


async def pos_eighty_sixed(url: str) -> list[str]:
    """What a POS reads to hide sold-out items."""
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('pos')}"}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/rest/v1/menu_availability", params={"available": "eq.false", "select": "item_name"},
                           headers=headers)
    assert r.status_code == 200, r.text
    return sorted(row["item_name"] for row in r.json())


def keys(session: Session) -> list[str]:
    return [t.key for t in session.screen.model.tickets()]






def armed_control(session: Session, order_id: UUID, station: str | None = None) -> object:
    model = session.screen.model
    row = model.row_of(ticket_key(order_id, station))
    assert row is not None
    return model.data(model.index(row), Role.ARMED_CONTROL)


GRILL = {"station": "grill"}


async def test_expo_rushes_an_order_and_every_screen_sorts_it_first_with_a_rush_band(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        older = await pos_order(companion.url, "200", [{"name": "Burger", **GRILL}])
        newer = await pos_order(companion.url, "201", [{"name": "Steak", **GRILL}])
        await until(grill.engine, lambda: on_screen(grill, older) and on_screen(grill, newer))
        await until(expo.engine, lambda: on_screen(expo, older, None) and on_screen(expo, newer, None))
        assert keys(grill) == [ticket_key(older, "grill"), ticket_key(newer, "grill")]
        with pytest.raises(KeyError):  # a station has no RUSH button unless the kitchen allows it
            grill.window.grid.point_of(ticket_key(newer, "grill"), control=RUSH)

        await tap_control(expo, newer, RUSH)  # one tap only arms
        assert armed_control(expo, newer) == RUSH and expo.engine.queue_depth.value == 0
        await tap_control(expo, newer, RUSH)
        assert keys(expo)[0] == ticket_key(newer, None)  # at once, on expo
        assert layout(expo, newer, None).rush_band is not None

        await until(grill.engine, lambda: keys(grill)[0] == ticket_key(newer, "grill"))
        rushed = layout(grill, newer)
        assert rushed.rush_band is not None and rushed.header.top() > rushed.rush_band.top()
        assert layout(grill, older).rush_band is None
        await synced(expo)
        assert (await server_order(companion.url, newer))["priority"] == "rush"

        # The button now says UN-RUSH; two taps put the order back in its place.
        assert [c.label for c in layout(expo, newer, None).controls if c.kind == RUSH] == ["UN-RUSH"]
        await tap_control(expo, newer, RUSH)
        await tap_control(expo, newer, RUSH)
        await until(grill.engine, lambda: keys(grill)[0] == ticket_key(older, "grill"))
        await synced(expo)
        assert (await server_order(companion.url, newer))["priority"] == "normal"


async def test_a_station_may_rush_where_the_kitchen_allows_it(companion: LiveServer, tmp_path: Path) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1", allow_rush=True) as grill:
        older = await pos_order(companion.url, "210", [{"name": "Burger", **GRILL}])
        newer = await pos_order(companion.url, "211", [{"name": "Steak", **GRILL}])
        await until(grill.engine, lambda: on_screen(grill, older) and on_screen(grill, newer))
        await tap_control(grill, newer, RUSH, "grill")
        await tap_control(grill, newer, RUSH, "grill")
        assert keys(grill)[0] == ticket_key(newer, "grill")
        await synced(grill)
        assert (await server_order(companion.url, newer))["priority"] == "rush"


async def test_a_held_course_is_greyed_and_not_bumpable_until_expo_fires_it(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        made = await pos_order(companion.url, "220", [
            {"name": "Soup", "station": "saute", "course": 1},
            {"name": "Steak", "course": 2, "held": True, **GRILL},
        ])
        await until(grill.engine, lambda: on_screen(grill, made))
        await until(expo.engine, lambda: on_screen(expo, made, None))
        held = layout(grill, made)
        assert held.on_hold and not held.action_ready and held.held_course == 2
        assert grill.window.top.count.text() == "0 open · 1 on hold"  # on the rail, but not work
        await tap_action(grill, made)
        await tap_action(grill, made)  # the greyed ON HOLD zone sends nothing
        assert grill.engine.queue_depth.value == 0 and on_screen(grill, made)
        with pytest.raises(KeyError):  # only expo fires a course
            grill.window.grid.point_of(ticket_key(made, "grill"), control=FIRE)

        assert [c.label for c in layout(expo, made, None).controls if c.kind == FIRE] == ["FIRE COURSE 2"]
        await tap_control(expo, made, FIRE)
        assert expo.engine.queue_depth.value == 0  # armed only
        await tap_control(expo, made, FIRE)
        assert not shown_item(expo, made, "Steak", None).held  # at once on expo
        await until(grill.engine, lambda: not layout(grill, made).on_hold)
        assert grill.window.top.count.text() == "1 open"
        await tap_action(grill, made)
        await tap_action(grill, made)
        assert not on_screen(grill, made)
        await synced(grill)
        items = (await server_order(companion.url, made))["order_items"]
        expected = {"Soup": ("new", False), "Steak": ("done", False)}
        assert {i["name"]: (i["status"], i["held"]) for i in items} == expected


async def test_bumping_the_previous_course_fires_the_next_on_every_screen(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-saute-1", stations=("saute",)) as saute,
        screen(companion, tmp_path, "r1-kds-grill-1", at=1) as grill,
    ):
        made = await pos_order(companion.url, "230", [
            {"name": "Soup", "station": "saute", "course": 1},
            {"name": "Steak", "course": 2, "held": True, **GRILL},
            {"name": "Cake", "course": 3, "held": True, **GRILL},
        ])
        await until(saute.engine, lambda: on_screen(saute, made, "saute"))
        await until(grill.engine, lambda: on_screen(grill, made))
        assert layout(grill, made).on_hold
        await tap_action(saute, made, "saute")
        await tap_action(saute, made, "saute")  # course 1 is done: course 2 fires by itself
        await until(grill.engine, lambda: not shown_item(grill, made, "Steak").held)
        assert shown_item(grill, made, "Cake").held  # one course at a time
        assert not layout(grill, made).on_hold
        await tap_item(grill, made, "Steak")  # course 2 done: course 3 fires
        assert not shown_item(grill, made, "Cake").held  # predicted at once, the server's machine agrees
        await synced(grill)
        server = {i["name"]: (i["status"], i["held"]) for i in (await server_order(companion.url, made))["order_items"]}
        assert server == {"Soup": ("done", False), "Steak": ("done", False), "Cake": ("new", False)}


async def test_86_on_one_screen_shows_on_the_others_and_to_the_pos_and_un_86_clears_it(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        made = await pos_order(companion.url, "240", [{"name": "Calamari", **GRILL}, {"name": "Burger", **GRILL}])
        await until(grill.engine, lambda: on_screen(grill, made))
        top = grill.window.top
        await tap(top.eighty_six, top.eighty_six.rect().center())
        panel = grill.window.eighty_six_panel
        assert panel.isVisible() and [r.name for r in panel.menu_rows] == ["Burger", "Calamari"]
        row = next(r for r in panel.menu_rows if r.name == "Calamari")
        await tap(row.button, row.button.rect().center())

        strip = grill.window.eighty_six_strip
        assert strip.isVisible() and strip.text() == "86: Calamari"  # at once, before the server answers
        assert [r.name for r in panel.out_rows] == ["Calamari"]
        tags = {b.item.name: b.tag for b in layout(grill, made).items}
        assert tags == {"Calamari": "86", "Burger": None}
        async with asyncio.timeout(TIMEOUT_S):  # the menu has its own notification, not the orders' one
            await expo.engine.eighty_sixed.wait_for(("Calamari",))
        assert expo.window.eighty_six_strip.isVisible()
        assert expo.window.eighty_six_strip.text() == "86: Calamari"
        await synced(grill)
        assert await pos_eighty_sixed(companion.url) == ["Calamari"]

        # Expo brings it back: UN-86 in its panel clears the strip everywhere.
        await tap(expo.window.top.eighty_six, expo.window.top.eighty_six.rect().center())
        (back,) = expo.window.eighty_six_panel.out_rows
        await tap(back.button, back.button.rect().center())
        assert not expo.window.eighty_six_strip.isVisible()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.eighty_sixed.wait_for(())
        assert not strip.isVisible() and [r.name for r in panel.out_rows] == []
        assert {b.item.name: b.tag for b in layout(grill, made).items} == {"Calamari": None, "Burger": None}
        await synced(expo)
        assert await pos_eighty_sixed(companion.url) == []


async def test_a_rush_and_an_86_made_offline_show_at_once_and_sync_after_the_server_returns(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-expo-1", expo=True) as expo:
        older = await pos_order(companion.url, "250", [{"name": "Burger", **GRILL}])
        newer = await pos_order(companion.url, "251", [{"name": "Burrata", "station": "cold"}])
        await until(expo.engine, lambda: on_screen(expo, older, None) and on_screen(expo, newer, None))
        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await expo.engine.connection_state.wait_for(ConnectionState.OFFLINE)

        await tap_control(expo, newer, RUSH)
        await tap_control(expo, newer, RUSH)
        assert keys(expo)[0] == ticket_key(newer, None)
        top = expo.window.top
        await tap(top.eighty_six, top.eighty_six.rect().center())
        row = next(r for r in expo.window.eighty_six_panel.menu_rows if r.name == "Burrata")
        await tap(row.button, row.button.rect().center())
        assert expo.window.eighty_six_strip.text() == "86: Burrata" and expo.window.eighty_six_strip.isVisible()
        assert expo.engine.queue_depth.value == 2

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(expo)
            assert expo.engine.rejected() == []
            assert (await server_order(restarted.url, newer))["priority"] == Priority.rush.value
            assert await pos_eighty_sixed(restarted.url) == ["Burrata"]
            assert keys(expo)[0] == ticket_key(newer, None) and expo.window.eighty_six_strip.isVisible()
            assert shown_item(expo, older, "Burger", None).status is ItemStatus.new
        finally:
            restarted.stop()
