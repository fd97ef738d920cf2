"""Issue 16, expo: a compact mode (one row an order: number and age, a chip a station, SERVE at the end),
switched by the COMPACT button on the expo screen or the `expo_compact` setting; orders ready to serve come
first, so SERVE is never on a later page. At 1920x1080 the compact rows list at least 20 orders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from api_client.models import DeviceRole, ItemStatus, OrderStatus
from kds_app.cards.card_layout import chip_text
from kds_app.startup.config import AppConfig
from kds_app.viewmodel.screen import sort_key
from kds_app.viewmodel.ticket_model import Ticket
from kds_app.windows.app import Session
from tests.helpers.grid_cards import finger_tap, widgets_only
from tests.kds_app.factories import order


def expo_orders(count: int) -> list[Ticket]:
    """Whole orders over three stations, oldest first; every fifth is ready to serve (all items done)."""
    made = []
    for n in range(count):
        o = order(str(1000 + n), ("Burger", "grill"), ("Fries", "fry"), ("Fries", "fry"), ("Salad", "cold"),
                  age_s=1500 - 30 * n)
        items = list(o.order_items)
        if n % 5 == 4:
            items = [i.model_copy(update={"status": ItemStatus.done}) for i in items]
            o = o.model_copy(update={"status": OrderStatus.ready, "order_items": items})
        else:
            items[1] = items[1].model_copy(update={"status": ItemStatus.done})  # FRY 1/2
            o = o.model_copy(update={"order_items": items})
        made.append(Ticket(o, None))
    return made


@pytest.fixture
def expo(qapp: QApplication, tmp_path: Path) -> Iterator[Session]:
    with widgets_only(qapp, tmp_path, AppConfig(view="expo", expo_compact=True), "r1-expo-1", DeviceRole.expo,
                      ()) as made:
        yield made


def test_ready_orders_come_first_on_expo_and_stations_keep_oldest_first() -> None:
    shown = sorted(expo_orders(12), key=sort_key)
    ready = [t for t in shown if t.order.status is OrderStatus.ready]
    assert shown[:len(ready)] == ready and len(ready) == 2
    assert [t.order.created_at for t in ready] == sorted(t.order.created_at for t in ready)  # oldest ready first
    station = [Ticket(t.order, "grill") for t in expo_orders(6)]
    assert sorted(station, key=sort_key) == sorted(station, key=lambda t: t.order.created_at)


def test_compact_rows_list_twenty_orders_at_1080p_with_a_chip_a_station_and_switch_by_touch(
    expo: Session, qtbot: QtBot
) -> None:
    window, grid = expo.window, expo.window.grid
    tickets = sorted(expo_orders(40), key=sort_key)
    expo.screen.model.set_tickets(tickets, announce=False)
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: grid.viewport().height() < 1000)
    grid.relayout()
    assert window.compact_button.isVisible() and window.compact_button.isChecked(), "the setting starts it compact"
    shown = grid.visible_keys()
    assert len(shown) >= 20, f"{len(shown)} compact orders at 1920x1080"
    assert shown[:8] == [t.key for t in tickets if t.order.status is OrderStatus.ready], "ready to serve first"
    first = tickets[0]
    layout = grid.delegate.layout_for(first)
    assert layout.compact and layout.items == () and layout.action_ready
    assert [chip_text(c) for c in layout.stations] == ["COLD ✓", "FRY ✓", "GRILL ✓"]
    waiting = grid.delegate.layout_for(tickets[8])
    assert [chip_text(c) for c in waiting.stations] == ["COLD 0/1", "FRY 1/2", "GRILL 0/1"]
    assert not waiting.action_ready
    # SERVE works in compact rows as on cards: two taps.
    served: list[str] = []
    grid.action_tapped.connect(served.append)
    finger_tap(grid.viewport(), grid.point_of(first.key))
    assert served == [first.key]

    finger_tap(window.compact_button, window.compact_button.rect().center())  # whole cards again
    grid.relayout()
    assert not window.compact_button.isChecked() and not grid.delegate.layout_for(first).compact
    assert len(grid.visible_keys()) < len(shown)
    assert grid.visible_keys()[0] == first.key, "the first ready order stays in view"


def test_compact_is_for_expo_only(qapp: QApplication, qtbot: QtBot, tmp_path: Path) -> None:
    config = AppConfig(view="station", stations=("grill",), expo_compact=True)
    with widgets_only(qapp, tmp_path, config, "r1-screen-1", DeviceRole.kds, ("grill",)) as session:
        session.window.show()
        qtbot.waitExposed(session.window)
        assert not session.window.compact_button.isVisible() and not session.window.grid.delegate.compact
