"""The cook's screen driven the way a cook drives it: touch taps on the visible window, against a real
companion process (killed and restarted where the test says so), with the real engine and store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from PySide6.QtCore import QRect

from api_client.hub_link import UpstreamLink
from api_client.models import DeviceRole, Intent, ItemStatus, OrderStatus
from kds_app.app import Session
from kds_app.config import AppConfig
from kds_app.connect import Connection
from kds_app.sound import AlertSound
from kds_app.ticket_model import Role, ticket_key
from sync.realtime.connection import ConnectionState
from sync.store.outbox_rows import OutboxEntry
from tests.conftest import token_for
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, engine_config, tap, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


class Chime:
    """Stands in for the audio player: records what would have been played."""

    def __init__(self) -> None:
        self.played: list[Path] = []

    def __call__(self, sound: Path) -> bool:
        self.played.append(sound)
        return True


@asynccontextmanager
async def screen(
    server: LiveServer,
    data_dir: Path,
    device: str,
    *,
    expo: bool = False,
    chime: Chime | None = None,
    at: int = 0,
    stations: tuple[str, ...] = ("grill",),
    **settings: Any,
) -> AsyncIterator[Session]:
    """A screen's window; `at` staggers it against the others (touches go to each window's own handle);
    `settings` are further `AppConfig` fields, as a kitchen's config file would set them."""
    stations = () if expo else stations
    role = DeviceRole.expo if expo else DeviceRole.kds
    config = AppConfig(view="expo" if expo else "station", stations=stations, **settings)
    connection = Connection(engine_config(server.url, data_dir, device, role, stations))
    session = Session.create(config, connection, sound=AlertSound(True, player=chime or Chime(), min_gap_s=0))
    await session.start(fullscreen=False)
    session.window.resize(1600, 900)
    session.window.move(at * 40, at * 40)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await session.engine.caught_up.wait_for(True)
        assert session.window.isVisible() and session.window.grid.isVisible()
        yield session
    finally:
        await session.stop()


async def pos_order(url: str, number: str, items: list[tuple[str, str]] | list[dict[str, Any]]) -> UUID:
    """A POS order; each item is (name, station), or a whole intake line (course, held, ...)."""
    def line(item: tuple[str, str] | dict[str, Any]) -> dict[str, Any]:
        if isinstance(item, dict):
            return item
        name, station = item
        return {"name": name, "station": station, "allergens": ["peanut"] if name == "Satay" else []}

    lines = [line(i) for i in items]
    body = {"number": number, "table_label": "12", "guests": 2, "items": lines}
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('pos')}", "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return UUID(r.json()["id"])


async def server_order(url: str, order_id: UUID) -> dict[str, Any]:
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin')}",
               "Accept": "application/vnd.pgrst.object+json"}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/rest/v1/orders", params={"id": f"eq.{order_id}", "select": "*,order_items(*)"},
                           headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def item_statuses(order: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["status"] for i in order["order_items"]}


def on_screen(session: Session, order_id: UUID, station: str | None = "grill") -> bool:
    return session.screen.model.row_of(ticket_key(order_id, station)) is not None


def shown_item(session: Session, order_id: UUID, name: str, station: str | None = "grill") -> Any:
    ticket = session.screen.ticket(ticket_key(order_id, station))
    assert ticket is not None
    return next(i for i in ticket.order.order_items if i.name == name)


async def synced(session: Session) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        await session.engine.queue_depth.wait_for(0)


async def tap_item(session: Session, order_id: UUID, name: str, station: str | None = "grill") -> None:
    grid = session.window.grid
    point = grid.point_of(ticket_key(order_id, station), shown_item(session, order_id, name, station).id)
    await tap(grid.viewport(), point)


async def tap_action(session: Session, order_id: UUID, station: str | None = "grill") -> None:
    grid = session.window.grid
    await tap(grid.viewport(), grid.point_of(ticket_key(order_id, station)))


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
