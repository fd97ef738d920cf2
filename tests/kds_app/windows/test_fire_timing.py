"""Fire timing (issue 19 item 1) on live screens against a real companion process: with prep times set, a course's
shorter items wait on its longest with a countdown on every screen showing them, do not age, fire on their own when
the screens' clock passes their time (the clock is the test's: no sleeping), and a cook fires them now by touch or
bump bar; offline, the fire is shown at once and reaches the server once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from api_client.models import OrderItemPublic
from kds_app.cards.card_layout import countdown_text
from kds_app.viewmodel.ticket_model import CardState, ticket_key
from kds_app.windows.app import Session
from sync import ConnectionState
from tests.conftest import token_for
from tests.helpers.app_screens import item_statuses, on_screen, pos_order, screen, server_order, synced, tap_item
from tests.helpers.bump_bar_keys import Key, press
from tests.helpers.grid_cards import painted_texts
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

PREP = {"Ribeye": 600, "Fries": 180, "Salad": 60}
LINES = [
    {"name": "Ribeye", "station": "grill"},
    {"name": "Fries", "station": "fry"},
    {"name": "Salad", "station": "fry"},
]


class Clock:
    """The screens' wall clock: stopped at the start, moved on only by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float, *sessions: Session) -> None:
        self.now += seconds
        for session in sessions:
            session.window.tick()  # the screen's once-a-second tick, at once


async def set_prep_times(url: str) -> None:
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin')}"}
    async with httpx.AsyncClient(base_url=url) as http:
        for name, seconds in PREP.items():
            r = await http.put(f"/api/v1/prep-times/{name}", json={"seconds": seconds}, headers=headers)
            assert r.status_code == 200, r.text


def card(session: Session, order_id: UUID, station: str | None) -> CardState:
    model = session.screen.model
    row = model.row_of(ticket_key(order_id, station))
    assert row is not None
    return model.card(row)


def waits(session: Session, order_id: UUID, station: str | None) -> dict[str, float]:
    state = card(session, order_id, station)
    names = {i.id: i.name for i in state.ticket.order.order_items}
    return {names[item_id]: seconds for item_id, seconds in state.waits.items()}


def fired_with(session: Session, clock: Callable[[], float]) -> None:
    session.screen.model.set_clock(clock)
    session.screen.refresh()


async def test_items_wait_with_a_countdown_fire_on_their_own_and_fire_now_by_touch_and_bump_bar(
    companion: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_prep_times(companion.url)
    clock = Clock()
    async with (
        screen(companion, tmp_path, "r1-kds-fry-1", stations=("fry",)) as fry,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        for session in (fry, expo):
            fired_with(session, clock)
        order = await pos_order(companion.url, "410", LINES)
        await until(fry.engine, lambda: on_screen(fry, order, "fry"))
        await until(expo.engine, lambda: on_screen(expo, order, None))
        sent = (await server_order(companion.url, order))["order_items"][0]["fired_at"]
        assert sent is not None
        clock.now = max(clock.now, time.time())  # never before the server's fire time: the order is a second old
        clock.advance(1, fry, expo)

        # The ribeye (10:00) started as the order came in; fries (3:00) fire at 7:00, the salad (1:00) at 9:00.
        fry_waits = waits(fry, order, "fry")
        assert set(fry_waits) == {"Fries", "Salad"} and fry_waits["Salad"] - fry_waits["Fries"] == pytest.approx(120)
        assert 400 < fry_waits["Fries"] <= 420
        state = card(fry, order, "fry")
        assert state.fires_in_s == fry_waits["Fries"] and state.age_s == 0  # held: it does not age
        drawn = painted_texts(fry.window.grid, monkeypatch)
        assert countdown_text(fry_waits["Fries"]) in drawn and countdown_text(fry_waits["Salad"]) in drawn
        assert "HELD" in drawn and "FIRE NOW" in drawn and "BUMP" not in drawn
        # Expo shows the same countdowns on the whole order; the ribeye waits on nothing.
        assert waits(expo, order, None) == fry_waits
        expo_drawn = painted_texts(expo.window.grid, monkeypatch)
        assert countdown_text(fry_waits["Fries"]) in expo_drawn

        # Seven minutes on: the fries fire on their own, on both screens, with nothing sent; the salad still waits.
        clock.advance(fry_waits["Fries"] + 5, fry, expo)
        assert set(waits(fry, order, "fry")) == {"Salad"} and set(waits(expo, order, None)) == {"Salad"}
        state = card(fry, order, "fry")
        assert state.fires_in_s is None and 4 < state.age_s < 7  # its clock started when the fries fired
        drawn = painted_texts(fry.window.grid, monkeypatch)
        assert "BUMP" in drawn and countdown_text(waits(fry, order, "fry")["Salad"]) in drawn
        assert fry.engine.queue_depth.value == 0

        # The fry cook fires the salad now: a tap on it starts it (a second tap would strike it).
        await tap_item(fry, order, "Salad", "fry")
        assert waits(fry, order, "fry") == {}
        await synced(fry)
        await until(expo.engine, lambda: waits(expo, order, None) == {})
        assert item_statuses(await server_order(companion.url, order)) == {
            "Ribeye": "new",
            "Fries": "new",
            "Salad": "cooking",
        }

        # The bump bar: the selected ticket, all waiting, fires with the bump key (Enter), which bumps once fired.
        again = await pos_order(companion.url, "411", LINES)
        await until(fry.engine, lambda: on_screen(fry, again, "fry"))
        clock.now = time.time()  # back to the present for the new order (its fries wait 7 minutes from now)
        clock.advance(1, fry, expo)
        assert card(fry, again, "fry").fires_in_s is not None
        grid = fry.window.grid
        await press(grid, Key.Key_2)  # the second ticket on the rail: #411
        await press(grid, Key.Key_Return)
        assert waits(fry, again, "fry") == {} and on_screen(fry, again, "fry")  # fired, not bumped
        await synced(fry)
        assert item_statuses(await server_order(companion.url, again)) == {
            "Ribeye": "new",
            "Fries": "cooking",
            "Salad": "cooking",
        }
        assert fry.engine.rejected() == [] and expo.engine.rejected() == []


async def test_fire_now_made_offline_shows_at_once_and_is_applied_once_after_the_server_returns(
    companion: LiveServer, tmp_path: Path
) -> None:
    await set_prep_times(companion.url)
    clock = Clock()
    async with screen(companion, tmp_path, "r1-kds-fry-1", stations=("fry",)) as fry:
        fired_with(fry, clock)
        order = await pos_order(companion.url, "412", LINES)
        await until(fry.engine, lambda: on_screen(fry, order, "fry"))
        clock.now = max(clock.now, time.time())
        clock.advance(1, fry)
        assert set(waits(fry, order, "fry")) == {"Fries", "Salad"}
        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await fry.engine.connection_state.wait_for(ConnectionState.OFFLINE)

        await tap_item(fry, order, "Fries", "fry")  # fired now, with the server away
        assert set(waits(fry, order, "fry")) == {"Salad"} and fry.engine.queue_depth.value == 1
        # Offline the countdown still runs on the screen's clock, and the salad fires on its own.
        clock.advance(600, fry)
        assert waits(fry, order, "fry") == {}

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(fry)
            assert fry.engine.rejected() == []
            items = {
                i["name"]: (i["status"], i["version"])
                for i in (await server_order(restarted.url, order))["order_items"]
            }
            assert items == {"Ribeye": ("new", 1), "Fries": ("cooking", 2), "Salad": ("new", 1)}  # applied once
        finally:
            restarted.stop()


def countdown_rows(session: Session, order_id: UUID, station: str | None) -> set[str]:
    """The items whose card has a FIRES IN row laid out (drawn or empty)."""
    state = card(session, order_id, station)
    layout = session.window.grid.delegate.layout_for(state.ticket)
    return {block.item.name for block in layout.items if block.countdown is not None}


def salad(session: Session, order_id: UUID) -> OrderItemPublic:
    return next(i for i in card(session, order_id, "fry").ticket.order.order_items if i.name == "Salad")


async def test_a_ticket_waiting_to_fire_is_on_hold_in_the_count_and_ages_from_its_fire_offline(
    companion: LiveServer, tmp_path: Path
) -> None:
    """The top bar counts a ticket whose every item waits as on hold, like a held course, until its first item
    fires on the screen's clock; the fired item's countdown row goes on that tick. With the server away the ticket
    ages from the fire, smoothly: nothing jumps when it fires, when a cook fires the rest now, or when the server
    comes back and stamps its own times."""
    await set_prep_times(companion.url)
    clock = Clock()
    async with screen(companion, tmp_path, "r1-kds-fry-1", stations=("fry",)) as fry:
        fired_with(fry, clock)
        order = await pos_order(companion.url, "413", LINES)
        await until(fry.engine, lambda: on_screen(fry, order, "fry"))
        clock.now = max(clock.now, time.time())
        clock.advance(1, fry)
        assert fry.window.top.count.text() == "0 open · 1 on hold"
        assert countdown_rows(fry, order, "fry") == {"Fries", "Salad"}
        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await fry.engine.connection_state.wait_for(ConnectionState.OFFLINE)

        fries_in = waits(fry, order, "fry")["Fries"]
        clock.advance(fries_in - 2, fry)
        assert card(fry, order, "fry").age_s == 0 and fry.window.top.count.text() == "0 open · 1 on hold"
        clock.advance(5, fry)  # the fries fire, offline, on this tick
        assert fry.window.top.count.text() == "1 open"
        assert countdown_rows(fry, order, "fry") == {"Salad"}, "the fired item's row went on the tick"
        ages = [card(fry, order, "fry").age_s]
        assert 2 < ages[0] < 4, "aged from the fire, not from the order"
        clock.advance(30, fry)
        ages.append(card(fry, order, "fry").age_s)
        await tap_item(fry, order, "Salad", "fry")  # fired now, offline: the ticket's clock keeps running
        clock.advance(1, fry)
        ages.append(card(fry, order, "fry").age_s)
        assert waits(fry, order, "fry") == {} and fry.engine.queue_depth.value == 1

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(fry)
            await until(fry.engine, lambda: salad(fry, order).version == 2)  # the server's row, with its times
            clock.advance(1, fry)
            ages.append(card(fry, order, "fry").age_s)
        finally:
            restarted.stop()
        assert ages == pytest.approx([ages[0], ages[0] + 30, ages[0] + 31, ages[0] + 32], abs=1.5), ages
