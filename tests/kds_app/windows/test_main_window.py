"""The cook's screen driven the way a cook drives it: touch taps on the visible window, against a real
companion process (killed and restarted where the test says so), with the real engine and store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from PySide6.QtCore import QRect

from api_client.hub_link import UpstreamLink
from api_client.models import Intent, ItemStatus, OrderStatus
from kds_app.cards.card_layout import TIMES
from kds_app.viewmodel.ticket_model import Role, ticket_key
from kds_app.windows.app import Session
from sync.realtime.connection import ConnectionState
from sync.store.outbox_rows import OutboxEntry
from tests.conftest import token_for
from tests.helpers.app_screens import (
    Chime,
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
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow






















async def test_a_pos_order_appears_with_a_chime_and_a_brief_highlight(companion: LiveServer, tmp_path: Path) -> None:
    before = await pos_order(companion.url, "100", [("Burger", "grill")])
    chime = Chime()
    async with screen(companion, tmp_path, "r1-kds-grill-1", chime=chime) as grill:
        await until(grill.engine, lambda: on_screen(grill, before))
        assert chime.played == []  # what was already there when the screen came on is not news
        made = await pos_order(companion.url, "101", [("Satay", "grill"), ("Fries", "fry")])
        await until(grill.engine, lambda: on_screen(grill, made))
        row = grill.screen.model.row_of(ticket_key(made, "grill"))
        assert grill.screen.model.data(grill.screen.model.index(row), Role.HIGHLIGHT) is True
        assert len(chime.played) == 1 and chime.played[0].name.endswith(".wav")
        # The grill sees its own item (with the allergen), not the fryer's.
        ticket = grill.screen.ticket(ticket_key(made, "grill"))
        assert ticket is not None
        assert [(i.name, i.allergens) for i in ticket.order.order_items] == [("Satay", ["peanut"])]
        assert grill.window.top.connection.text() == "● ONLINE"
        assert grill.window.top.count.text() == "2 open"


async def test_a_screen_on_a_hub_that_lost_the_internet_says_lan_only_without_moving_a_card(
    companion: LiveServer, tmp_path: Path
) -> None:
    """What the engine learns from its hub (`SyncEngine.hub_upstream`, end to end in tests/kds_backend/hub/) is
    shown in the top bar: the LAN is in sync, online orders cannot arrive, and what waits at the hub."""
    made = await pos_order(companion.url, "102", [("Burger", "grill")])
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        await until(grill.engine, lambda: on_screen(grill, made))
        grill.window.grid.relayout()
        cards = {key: grill.window.grid.visual_rect(key) for key in grill.window.grid.visible_keys()}
        down_since = datetime.now(UTC) - timedelta(minutes=12, seconds=5)
        grill.engine.hub_upstream.set(
            UpstreamLink(connection="offline", down_since=down_since, taps_waiting=3, pos_writes_waiting=1)
        )
        top = grill.window.top
        assert (top.connection.text(), top.connection.property("state")) == ("● LAN ONLY", "lan_only")
        assert top.queue.text() == "no internet 12:05 · 4 to sync"
        assert not grill.window.offline_banner.isVisible()  # this screen itself is online: no red strip
        grill.window.grid.relayout()
        assert {key: grill.window.grid.visual_rect(key) for key in grill.window.grid.visible_keys()} == cards
        grill.window.grab().save(str(tmp_path / "lan-only.png"))

        grill.engine.hub_upstream.set(UpstreamLink(connection="live"))
        assert (top.connection.text(), top.queue.text()) == ("● ONLINE", "All synced")


async def test_the_red_strip_and_a_refusal_appear_without_moving_a_card(companion: LiveServer, tmp_path: Path) -> None:
    """Issue 16: nothing that appears during service may move the cards under a cook's finger. The offline or
    sign-in strip takes the prep figures' place in the page bar; a refusal lies over the foot of the card area."""
    made = [await pos_order(companion.url, str(n), [("Burger", "grill"), ("Ribs", "grill")]) for n in (110, 111, 112)]
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        for order_id in made:
            await until(grill.engine, lambda o=order_id: on_screen(grill, o))
        window, grid = grill.window, grill.window.grid

        def cards() -> dict[str, QRect]:
            window.centralWidget().layout().activate()
            grid.relayout()
            # Where the cook sees them: in the window's coordinates (a strip above the grid moves the grid itself).
            return {
                key: QRect(grid.viewport().mapTo(window, grid.visual_rect(key).topLeft()), grid.visual_rect(key).size())
                for key in grid.visible_keys()
            }

        before = cards()
        assert len(before) == 3
        window.set_sign_in_needed(True, "grill@kitchen.test")
        assert window.offline_banner.isVisible() and not window.prep_strip.isVisible()
        assert window.offline_banner.parentWidget() is grid.page_bar
        assert cards() == before

        intent = Intent(id=uuid.uuid4(), device_id="r1-kds-grill-1", device_seq=99, kind="bump_ticket",
                        order_id=made[0], station="grill")
        refused = OutboxEntry(seq=1, intent=intent, state="rejected", attempts=1, created_at=0.0, last_error=None,
                              reason="Nothing left to bump at grill on order 110")
        banner = window.rejection_banner
        banner.show_rejections([refused])
        assert banner.isVisible() and cards() == before
        assert banner.geometry().bottom() < grid.page_bar.geometry().top() and banner.width() == grid.width()
        window.resize(1366, 768)  # a narrower window re-flows the cards; the refusal stays at the foot
        cards()
        assert banner.width() == grid.width() and banner.geometry().bottom() < grid.page_bar.geometry().top()
        window.set_sign_in_needed(False)
        assert not window.offline_banner.isVisible() and window.prep_strip.isVisible()


async def test_touch_strikes_an_item_and_two_taps_bump_the_ticket(companion: LiveServer, tmp_path: Path) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = await pos_order(companion.url, "102", [("Burger", "grill"), ("Steak", "grill"), ("Fries", "fry")])
        await until(grill.engine, lambda: on_screen(grill, made))

        await tap_item(grill, made, "Burger")
        assert shown_item(grill, made, "Burger").status is ItemStatus.done  # at once, before any network
        await synced(grill)
        assert item_statuses(await server_order(companion.url, made))["Burger"] == "done"
        await tap_item(grill, made, "Burger")  # a second tap undoes the strike
        assert shown_item(grill, made, "Burger").status is ItemStatus.cooking
        await synced(grill)
        assert item_statuses(await server_order(companion.url, made))["Burger"] == "cooking"

        await tap_action(grill, made)  # one tap only arms: a stray touch bumps nothing
        assert on_screen(grill, made)
        row = grill.screen.model.row_of(ticket_key(made, "grill"))
        assert grill.screen.model.data(grill.screen.model.index(row), Role.ARMED) is True
        await tap_action(grill, made)
        assert not on_screen(grill, made)
        await synced(grill)
        statuses = item_statuses(await server_order(companion.url, made))
        assert statuses == {"Burger": "done", "Steak": "done", "Fries": "new"}  # the fryer's item is the fryer's


async def test_recall_from_the_drawer_puts_the_ticket_back_everywhere(companion: LiveServer, tmp_path: Path) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-kds-grill-2", at=1) as other,
    ):
        made = await pos_order(companion.url, "103", [("Burger", "grill")])
        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_action(grill, made)
        await tap_action(grill, made)
        await until(other.engine, lambda: not on_screen(other, made))  # bumped on every grill screen

        await tap(grill.window.top.recall, grill.window.top.recall.rect().center())
        assert grill.window.drawer.isVisible()
        rows = [r for r in grill.window.drawer.rows if r.ticket.order.id == made]
        assert len(rows) == 1 and rows[0].button.isVisible()
        await tap(rows[0].button, rows[0].button.rect().center())
        assert on_screen(grill, made)
        assert all(r.ticket.order.id != made for r in grill.window.drawer.rows)
        await until(other.engine, lambda: on_screen(other, made))
        assert shown_item(other, made, "Burger").status is ItemStatus.cooking


async def test_the_drawer_shows_each_ticket_s_items_and_recall_last_brings_back_the_last_bump(
    companion: LiveServer, tmp_path: Path
) -> None:
    """Issue 16: a cook finds the ticket by its dishes, and undoes a wrong bump with one large button."""
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        # A kitchen screen's size, whatever another test on this worker left the window's minimum at: the drawer
        # then has its room and RECALL LAST its own height (squeezed to a row's 68 px in a CI run).
        grill.window.resize(1920, 1080)
        drawer = grill.window.drawer
        first = await pos_order(companion.url, "105", [("Burger", "grill"), ("Satay", "grill")])
        last = await pos_order(companion.url, "106", [("Ribeye", "grill")])
        await until(grill.engine, lambda: on_screen(grill, first) and on_screen(grill, last))
        for made in (first, last):
            await tap_action(grill, made)
            await tap_action(grill, made)
        await until(grill.engine, lambda: not on_screen(grill, first) and not on_screen(grill, last))

        await tap(grill.window.top.recall, grill.window.top.recall.rect().center())
        await until(grill.engine, lambda: len(drawer.rows) == 2)
        texts = {row.ticket.order.number: row.label.text() for row in drawer.rows}
        assert f"1{TIMES} Burger" in texts["105"] and f"1{TIMES} Satay" in texts["105"] and "Ribeye" not in texts["105"]
        assert f"1{TIMES} Ribeye" in texts["106"]
        assert drawer.last.isVisible() and drawer.last.isEnabled()
        assert drawer.last.height() > drawer.rows[0].button.height(), "RECALL LAST is the largest target"

        await tap(drawer.last, drawer.last.rect().center())
        await until(grill.engine, lambda: on_screen(grill, last))
        assert not on_screen(grill, first), "only the last bump comes back"
        assert [row.ticket.order.number for row in drawer.rows] == ["105"]


async def test_expo_serves_a_ready_order_with_two_taps(companion: LiveServer, tmp_path: Path) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        made = await pos_order(companion.url, "104", [("Burger", "grill"), ("Fries", "fry")])
        await until(expo.engine, lambda: on_screen(expo, made, None))
        await tap_action(expo, made, None)
        await tap_action(expo, made, None)  # not ready: the WAITING zone sends nothing
        assert expo.engine.queue_depth.value == 0 and on_screen(expo, made, None)

        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_action(grill, made)
        await tap_action(grill, made)
        # The grill's bump redraws the expo card; tap only once it has (a redraw under a finger moves items).
        await until(expo.engine, lambda: shown_item(expo, made, "Burger", None).status is ItemStatus.done)
        await tap_item(expo, made, "Fries", None)  # expo may strike an item for a station
        await until(expo.engine, lambda: expo.screen.ticket(ticket_key(made, None)).order.status is OrderStatus.ready)

        await tap_action(expo, made, None)
        await tap_action(expo, made, None)
        assert not on_screen(expo, made, None)
        await synced(expo)
        assert (await server_order(companion.url, made))["status"] == "served"


async def test_killing_the_server_shows_the_banner_and_bumps_sync_when_it_returns(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = await pos_order(companion.url, "105", [("Burger", "grill")])
        await until(grill.engine, lambda: on_screen(grill, made))
        assert not grill.window.offline_banner.isVisible()

        companion.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await grill.engine.connection_state.wait_for(ConnectionState.OFFLINE)
        assert grill.window.offline_banner.isVisible()
        assert grill.window.top.connection.text() == "● OFFLINE"

        await tap_action(grill, made)
        await tap_action(grill, made)  # the kitchen keeps working
        assert not on_screen(grill, made)
        assert grill.engine.queue_depth.value == 1
        assert "1 change waiting to sync" in grill.window.offline_banner.text()

        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(grill)
            async with asyncio.timeout(TIMEOUT_S):
                await grill.engine.connection_state.wait_for(ConnectionState.LIVE)
            assert not grill.window.offline_banner.isVisible()
            assert item_statuses(await server_order(restarted.url, made)) == {"Burger": "done"}
        finally:
            restarted.stop()


async def test_a_refused_tap_is_shown_with_its_reason_until_dismissed(companion: LiveServer, tmp_path: Path) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as first,
        screen(companion, tmp_path, "r1-kds-grill-2", at=1) as second,
    ):
        made = await pos_order(companion.url, "106", [("Burger", "grill")])
        await until(first.engine, lambda: on_screen(first, made))
        await until(second.engine, lambda: on_screen(second, made))
        companion.kill()
        for session in (first, second):  # both cooks bump the same ticket while the server is away
            await tap_action(session, made)
            await tap_action(session, made)
        restarted = companion.restarted()
        try:
            restarted.wait_ready()
            await synced(first)
            await synced(second)
            refused = [s for s in (first, second) if s.engine.rejected()]
            assert len(refused) == 1
            loser = refused[0]
            banner = loser.window.rejection_banner
            await until(loser.engine, banner.isVisible)
            assert "Nothing left to bump at grill on order 106" in banner.label.text()
            await tap(banner.ok, banner.ok.rect().center())
            assert not banner.isVisible() and loser.engine.rejected() == []
        finally:
            restarted.stop()


async def test_an_item_added_after_sending_is_marked_until_a_cook_taps_it(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = await pos_order(companion.url, "107", [("Burger", "grill"), ("Fries", "grill")])
        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_item(grill, made, "Burger")  # the kitchen has started on it: what comes now is news
        await synced(grill)
        pos = token_for("pos")
        headers = {"apikey": APIKEY, "Authorization": f"Bearer {pos}", "Idempotency-Key": str(uuid.uuid4())}
        async with httpx.AsyncClient(base_url=companion.url) as http:
            added = {"items": [{"name": "Steak", "station": "grill"}]}
            r = await http.post(f"/api/v1/orders/{made}/items", json=added, headers=headers)
        assert r.status_code == 201, r.text
        await until(grill.engine, lambda: any(i.name == "Steak" for i in grill.screen.ticket(
            ticket_key(made, "grill")).order.order_items))
        assert shown_item(grill, made, "Steak").changed_after_send
        await tap_item(grill, made, "Steak")  # the first tap acknowledges; it does not strike
        steak = shown_item(grill, made, "Steak")
        assert not steak.changed_after_send and steak.status is ItemStatus.new
        await synced(grill)
        server = {i["name"]: i for i in (await server_order(companion.url, made))["order_items"]}
        assert server["Steak"]["changed_after_send"] is False and server["Steak"]["status"] == "new"


async def test_a_screen_with_no_station_chosen_shows_each_station_its_own_ticket(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-all", stations=()) as kitchen:
        made = await pos_order(companion.url, "108", [("Burger", "grill"), ("Fries", "fry")])
        await until(kitchen.engine, lambda: on_screen(kitchen, made, "grill") and on_screen(kitchen, made, "fry"))
        await tap_action(kitchen, made, "fry")
        await tap_action(kitchen, made, "fry")  # the fryer's ticket goes; the grill's stays
        assert not on_screen(kitchen, made, "fry") and on_screen(kitchen, made, "grill")
        await tap(kitchen.window.top.recall, kitchen.window.top.recall.rect().center())
        assert [(r.ticket.order.id, r.ticket.station) for r in kitchen.window.drawer.rows] == [(made, "fry")]


def header_title(session: Session, order_id: UUID, station: str | None) -> str:
    """The number line a card's header draws (the age aside), read from the grid's own delegate."""
    grid = session.window.grid
    grid.relayout()
    ticket = session.screen.ticket(ticket_key(order_id, station))
    assert ticket is not None
    return grid.delegate.title_text(grid.delegate.layout_for(ticket))


async def test_an_all_stations_screen_names_each_card_s_station_in_its_header(
    companion: LiveServer, tmp_path: Path
) -> None:
    made = await pos_order(companion.url, "112", [("Burger", "grill"), ("Fries", "fry")])
    async with screen(companion, tmp_path, "r1-kds-all", stations=()) as kitchen:
        await until(kitchen.engine, lambda: on_screen(kitchen, made, "grill") and on_screen(kitchen, made, "fry"))
        # One order, two cards with the same number and age: only the station's name tells them apart.
        assert header_title(kitchen, made, "grill") == "#112 · GRILL"
        assert header_title(kitchen, made, "fry") == "#112 · FRY"
        kitchen.window.grab().save("/tmp/all_stations_headers.png")
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        await until(grill.engine, lambda: on_screen(grill, made, "grill"))
        assert header_title(grill, made, "grill") == "#112"  # one station: the number alone, as ever
