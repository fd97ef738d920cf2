"""The ticket grid's test material: typical tickets, a finger tap on the canvas, a window's widgets without its
cards, and the words its painting draws."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from api_client.models import DeviceRole
from kds_app.cards.ticket_grid import TicketGrid
from kds_app.media import theme
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.viewmodel.ticket_model import Ticket
from kds_app.windows.app import Session
from tests.kds_app.conftest import engine_config
from tests.kds_app.factories import order


def typical_tickets(count: int) -> list[Ticket]:
    """Station tickets as a grill sees them most of the service: 2 or 3 dishes, one with a modifier now and then."""
    dishes = [("Cheeseburger", "grill"), ("Ribeye 300g", "grill"), ("Chicken skewers", "grill")]
    made = []
    for n in range(count):
        ticket = order(str(100 + n), *dishes[: 2 + n % 2], age_s=1200 - 30 * n)
        if n % 3 == 0:
            first = ticket.order_items[0].model_copy(update={"modifiers": ["medium rare"]})
            ticket = ticket.model_copy(update={"order_items": [first, *ticket.order_items[1:]]})
        made.append(Ticket(ticket, "grill"))
    return made


def finger_tap(widget: QWidget, pos: QPoint) -> None:
    """A finger put down and lifted at `pos` (touch events; Qt turns them into the mouse events the grid reads)."""
    device = QTest.createTouchDevice()
    window = widget.window().windowHandle()
    at = widget.mapTo(widget.window(), pos)
    QTest.touchEvent(window, device).press(0, at, window).commit()
    QTest.touchEvent(window, device).release(0, at, window).commit()


@contextmanager
def widgets_only(
    qapp: QApplication, tmp_path: Path, config: AppConfig, device: str, role: DeviceRole, stations: tuple[str, ...]
) -> Iterator[Session]:
    """A screen's session never started, in the theme's sizes: the closed port is never dialled; only the
    widgets are under test."""
    qapp.setStyleSheet(theme.style_sheet(config.font_size))
    connection = Connection(engine_config("http://127.0.0.1:9", tmp_path, device, role, stations))
    made = Session.create(config, connection, sound=AlertSound(False))
    try:
        yield made
    finally:
        made.window.detach()
        made.window.close()
        made.engine.store.close()
        qapp.setStyleSheet("")


def painted_texts(grid: TicketGrid, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string the grid's painting draws in one fresh grab (the cards' cached pictures dropped first)."""
    grid.delegate.set_font_size(grid.delegate.fonts.base_pt)
    grid.relayout(remeasure=True)
    drawn: list[str] = []
    real = QPainter.drawText

    def record(self: QPainter, *args: object) -> None:
        drawn.append(str(args[-1]))
        real(self, *args)  # type: ignore[call-overload]

    with monkeypatch.context() as patch:
        patch.setattr(QPainter, "drawText", record)
        grid.grab()
    return drawn
