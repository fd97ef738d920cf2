"""The card grid repaints only the card that changed, and moves the others when a card changes size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from kds_app.config import DEFAULT_THRESHOLDS
from kds_app.ticket_delegate import TicketDelegate
from kds_app.ticket_grid import TicketGrid
from kds_app.ticket_model import Index, Role, Ticket, TicketModel
from tests.kds_app.factories import item, order


class RecordingDelegate(TicketDelegate):
    """The real delegate, noting which cards it actually drew."""

    def __init__(self) -> None:
        super().__init__(18, lambda _station: DEFAULT_THRESHOLDS)
        self.drawn: list[str] = []

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if self.paint_region is None or self.paint_region.intersects(option.rect):
            self.drawn.append(index.data(Role.KEY))
        super().paint(painter, option, index)


@pytest.fixture
def grid(qtbot: QtBot) -> Iterator[TicketGrid]:
    model = TicketModel()
    view = TicketGrid(model, RecordingDelegate())
    qtbot.addWidget(view)
    view.resize(1600, 900)
    tickets = [Ticket(order(str(n), ("Burger", "grill"), ("Steak", "grill"), age_s=600 - n), "grill")
               for n in range(12)]
    model.set_tickets(tickets, announce=False)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: len(recorder(view).drawn) >= 6)
    yield view


def recorder(view: TicketGrid) -> RecordingDelegate:
    assert isinstance(view.delegate, RecordingDelegate)
    return view.delegate


def test_striking_an_item_repaints_that_card_only(grid: TicketGrid, qtbot: QtBot) -> None:
    model = grid.ticket_model()
    ticket = model.tickets()[2]
    struck = ticket.order.order_items[0].model_copy(update={"status": "done", "version": 2})
    changed = Ticket(ticket.order.model_copy(update={"order_items": [struck, *ticket.order.order_items[1:]]}),
                     "grill")
    recorder(grid).drawn.clear()
    model.set_tickets([changed if t.key == ticket.key else t for t in model.tickets()])
    qtbot.waitUntil(lambda: bool(recorder(grid).drawn))
    assert recorder(grid).drawn == [ticket.key]


def test_a_card_that_grows_pushes_the_card_below_it_down(grid: TicketGrid, qtbot: QtBot) -> None:
    model = grid.ticket_model()
    tickets = model.tickets()
    columns = sum(1 for t in tickets if grid.visualRect(model.index(model.row_of(t.key) or 0)).top() < 50)
    grown_ticket, below = tickets[0], tickets[columns]
    before = grid.visualRect(model.index(model.row_of(below.key) or 0)).top()
    extra = [item(grown_ticket.order.id, f"Side {n}", "grill", changed=True) for n in range(3)]
    grown = Ticket(grown_ticket.order.model_copy(update={"order_items": [*grown_ticket.order.order_items, *extra]}),
                   "grill")
    model.set_tickets([grown, *tickets[1:]])

    def moved() -> bool:
        return grid.visualRect(model.index(model.row_of(below.key) or 0)).top() > before

    qtbot.waitUntil(moved)
    rect = grid.visualRect(model.index(0))
    assert rect.height() == grid.delegate.layout_for(grown).height
