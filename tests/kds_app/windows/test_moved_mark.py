"""The "moved from" mark (issue 19, item 2) through real screens and a companion process: a ticket the grill moves
to the fry shows its items on the fry's card with "← GRILL" under the dish (drawn, in the MOVE blue), and on the
expo's card under the fry; sent back, the grill's card has no mark."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor

from kds_app.cards.card_layout import ItemBlock, LineStyle
from kds_app.media import theme
from kds_app.viewmodel.ticket_model import ticket_key
from kds_app.windows.app import Session
from tests.helpers.app_controls import tap_move, tap_station
from tests.helpers.app_screens import on_screen, pos_order, screen, shown_item, synced, tap_action, tap_item
from tests.kds_app.conftest import until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

LINES = [{"name": "Burger", "station": "grill"}, {"name": "Fries", "station": "fry"}]


def moved_from(session: Session, order_id: UUID, name: str, station: str | None) -> str | None:
    """The item's "moved from" on the screen's card; "(not here)" while the card does not show it."""
    ticket = session.screen.ticket(ticket_key(order_id, station))
    items = [i for i in ticket.order.order_items if i.name == name] if ticket is not None else []
    return items[0].moved_from if items else "(not here)"


def block_of(session: Session, order_id: UUID, name: str, station: str | None) -> ItemBlock:
    grid = session.window.grid
    ticket = session.screen.ticket(ticket_key(order_id, station))
    assert ticket is not None
    item = shown_item(session, order_id, name, station)
    return next(b for b in grid.delegate.layout_for(ticket).items if b.item.id == item.id)


def marks(session: Session, order_id: UUID, name: str, station: str | None) -> list[str]:
    """The "moved from" lines of an item on the screen's card, as laid out (and so drawn and hit-tested)."""
    return [line.text for line in block_of(session, order_id, name, station).lines if line.style is LineStyle.MOVED]


def mark_pixels(session: Session, order_id: UUID, name: str, station: str | None) -> int:
    """How many pixels of the MOVE blue the screen shows where the item's mark is laid out."""
    grid = session.window.grid
    grid.relayout()
    block = block_of(session, order_id, name, station)
    (line,) = [line for line in block.lines if line.style is LineStyle.MOVED]
    # The card's offset on the canvas, from where the grid puts the item's row.
    offset = grid.point_of(ticket_key(order_id, station), block.item.id) - block.rect.center()
    image = grid.viewport().grab().toImage()
    area = QRect(line.rect).translated(offset).intersected(image.rect())
    want = theme.MOVED
    return sum(
        1
        for x in range(area.left(), area.right() + 1)
        for y in range(area.top(), area.bottom() + 1)
        if _near(QColor(image.pixel(x, y)), want)
    )


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 40


async def test_a_moved_ticket_is_marked_with_where_it_came_from_until_it_goes_back(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-kds-fry-1", stations=("fry",), at=1) as fry,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=2) as expo,
    ):
        await grill.ask_stations()
        order = await pos_order(companion.url, "310", LINES)
        await until(grill.engine, lambda: on_screen(grill, order))
        await until(fry.engine, lambda: on_screen(fry, order, "fry"))
        assert marks(fry, order, "Fries", "fry") == [] and marks(grill, order, "Burger", "grill") == []

        await tap_move(grill)
        await tap_action(grill, order)
        await tap_station(grill, "fry")
        await until(fry.engine, lambda: moved_from(fry, order, "Burger", "fry") == "grill")
        assert marks(fry, order, "Burger", "fry") == ["← GRILL"]
        assert marks(fry, order, "Fries", "fry") == []  # it was the fry's all along
        assert mark_pixels(fry, order, "Burger", "fry") > 20
        await until(expo.engine, lambda: moved_from(expo, order, "Burger", None) == "grill")
        assert marks(expo, order, "Burger", None) == ["← GRILL"] and marks(expo, order, "Fries", None) == []
        await synced(grill)

        fry.window.grid.relayout()
        await tap_move(fry)
        await tap_item(fry, order, "Burger", "fry")
        await tap_station(fry, "grill")
        await until(grill.engine, lambda: moved_from(grill, order, "Burger", "grill") is None)
        assert marks(grill, order, "Burger", "grill") == []
        await until(expo.engine, lambda: moved_from(expo, order, "Burger", None) is None)
        assert marks(expo, order, "Burger", None) == []
        await synced(fry)
        assert grill.engine.rejected() == [] and fry.engine.rejected() == []
