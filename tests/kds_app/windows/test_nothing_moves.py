"""Issue 16: nothing that appears above or over the cards during service moves a card under a cook's finger.
The notice (taps kept from before a re-point) lies over the foot of the card area, above a refusal; the 86 list
is in the top bar; the offline strip is in the page bar. Measured in the window's coordinates, with a finger on
the glass, at both kitchen resolutions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from api_client.models import DeviceRole, Intent
from kds_app.startup.config import AppConfig
from kds_app.windows.app import Session
from sync.store.outbox_rows import OutboxEntry
from tests.helpers.grid_cards import typical_tickets, widgets_only


@pytest.fixture
def session(qapp: QApplication, tmp_path: Path) -> Iterator[Session]:
    with widgets_only(qapp, tmp_path, AppConfig(view="station", stations=("grill",)), "r1-screen-1",
                      DeviceRole.kds, ("grill",)) as made:
        yield made


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_notice_the_86_list_and_a_refusal_appear_under_a_finger_without_moving_a_card(
    session: Session, qtbot: QtBot, size: tuple[int, int]
) -> None:
    window, grid = session.window, session.window.grid
    session.screen.model.set_tickets(typical_tickets(30), announce=False)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)

    def cards() -> dict[str, QRect]:
        QApplication.processEvents()  # whatever layout the change asked for, done before measuring
        window.centralWidget().layout().activate()
        grid.relayout()
        return {key: QRect(grid.viewport().mapTo(window, rect.topLeft()), rect.size()) for key, rect in
                grid.page_cards()}

    before = cards()
    assert len(before) >= 6
    oldest = session.screen.model.tickets()[0]
    finger = grid.point_of(oldest.key, oldest.order.order_items[0].id)
    device = QTest.createTouchDevice()
    handle = window.windowHandle()
    at = grid.viewport().mapTo(window, finger)
    QTest.touchEvent(handle, device).press(0, at, handle).commit()  # a cook's finger is on the first item

    window.show_notice("2 taps from before this screen was re-pointed never reached the server: kept here")
    assert window.notice.isVisible()
    assert cards() == before
    window._menu_changed(("Calamari", "Chicken skewers", "Burrata", "Lemon tart"))  # as the engine's 86 list does
    assert window.eighty_six_strip.isVisible() and window.eighty_six_strip.text().startswith("86: Calamari")
    assert window.eighty_six_strip.parentWidget() is window.top
    assert cards() == before
    intent = Intent(id=uuid.uuid4(), device_id="r1-screen-1", device_seq=9, kind="bump_ticket",
                    order_id=oldest.order.id, station="grill")
    window.rejection_banner.show_rejections([OutboxEntry(
        seq=1, intent=intent, state="rejected", attempts=1, created_at=0.0, last_error=None, reason="Already bumped")])
    assert cards() == before
    # Both over the foot of the cards, the notice above the refusal, neither over the page bar.
    notice, refusal = window.notice.geometry(), window.rejection_banner.geometry()
    assert notice.bottom() < refusal.top() and refusal.bottom() < grid.page_bar.geometry().top()
    assert notice.width() == grid.width()

    # The finger slides off and lifts: no tap (a strike would reload the rail from this test's empty store).
    QTest.touchEvent(handle, device).move(0, at + QPoint(0, 200), handle).commit()
    QTest.touchEvent(handle, device).release(0, at + QPoint(0, 200), handle).commit()
    window.notice.hide()
    window._menu_changed(())
    window.rejection_banner.show_rejections([])
    assert cards() == before, "and nothing moves when they go"
    assert not window.eighty_six_strip.isVisible()
    assert window.grid.viewport().mapTo(window, QPoint(0, 0)).y() == window.top.height()
