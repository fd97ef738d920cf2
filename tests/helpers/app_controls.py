"""A card's own controls (RUSH, FIRE) tapped on a live screen, the laid-out card they sit on, and colours compared
within a tolerance (an age band's colour as painted)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from PySide6.QtGui import QColor

from kds_app.viewmodel.ticket_model import ticket_key
from kds_app.windows.app import Session
from tests.kds_app.conftest import tap


def near(actual: QColor, expected: QColor, tolerance: int = 10) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(actual.getRgb()[:3], expected.getRgb()[:3], strict=True))


def layout(session: Session, order_id: UUID, station: str | None = "grill") -> Any:
    ticket = session.screen.ticket(ticket_key(order_id, station))
    assert ticket is not None
    return session.window.grid.delegate.layout_for(ticket)


async def tap_control(session: Session, order_id: UUID, control: str, station: str | None = None) -> None:
    grid = session.window.grid
    await tap(grid.viewport(), grid.point_of(ticket_key(order_id, station), control=control))


async def tap_move(session: Session) -> None:
    """MOVE in the bar under the cards: arms the transfer (or leaves it)."""
    button = session.window.move_button
    await tap(button, button.rect().center())


async def tap_station(session: Session, station: str) -> None:
    """A station's button in MOVE's picker."""
    button = session.window.picker.buttons[station]
    assert button.isVisible()
    await tap(button, button.rect().center())
