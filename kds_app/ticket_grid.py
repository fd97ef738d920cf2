"""The card grid: a list view flowing cards left to right, oldest first, and the taps on them.

A tap acts only when press and release land on the same target (an item or a card's action zone), so a
finger sliding across the glass, or a splash of water, does not strike or bump anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from . import theme
from .card_layout import Hit
from .ticket_delegate import TicketDelegate
from .ticket_model import Role, Ticket, TicketModel


class TicketGrid(QListView):
    action_tapped = Signal(str)  # ticket key: a tap on the BUMP / SERVE zone
    item_tapped = Signal(str, object)  # ticket key, item id
    control_tapped = Signal(str, str)  # ticket key, control (card_layout.RUSH, card_layout.FIRE)

    def __init__(self, model: TicketModel, delegate: TicketDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TicketGrid")
        self.setModel(model)
        self.setItemDelegate(delegate)
        self.delegate = delegate
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setSpacing(8)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.empty_text = "No open tickets"
        self._pressed: tuple[str, Hit] | None = None

    def ticket_model(self) -> TicketModel:
        model = self.model()
        assert isinstance(model, TicketModel)
        return model

    # ------------------------------------------------------------ hit testing

    def target_at(self, pos: QPoint) -> tuple[str, Hit] | None:
        """The ticket key and what on it is under `pos` (viewport coordinates)."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        ticket: Ticket = index.data(Role.TICKET)
        rect = self.visualRect(index)
        hit = self.delegate.layout_for(ticket).hit(pos - rect.topLeft())
        return None if hit is None else (ticket.key, hit)

    def point_of(self, key: str, item_id: UUID | None = None, *, control: str | None = None) -> QPoint:
        """Viewport position of a ticket's action zone, one of its items or controls (tests, the bump bar)."""
        row = self.ticket_model().row_of(key)
        if row is None:
            raise KeyError(key)
        index = self.ticket_model().index(row)
        self.scrollTo(index)
        rect = self.visualRect(index)
        layout = self.delegate.layout_for(index.data(Role.TICKET))
        if control is not None:
            found = next((c for c in layout.controls if c.kind == control), None)
            if found is None:
                raise KeyError(control)
            return rect.topLeft() + found.rect.center()
        if item_id is None:
            return rect.topLeft() + layout.action.center()
        for block in layout.items:
            if block.item.id == item_id:
                return rect.topLeft() + block.rect.center()
        raise KeyError(item_id)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = self.target_at(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed, self._pressed = self._pressed, None
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or pressed is None:
            return
        released = self.target_at(event.position().toPoint())
        if released != pressed:
            return
        key, hit = released
        if hit.action:
            self.action_tapped.emit(key)
        elif hit.item_id is not None:
            self.item_tapped.emit(key, hit.item_id)
        elif hit.control is not None:
            self.control_tapped.emit(key, hit.control)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Qt turns a quick second tap into a double-click; for the cards it is just another tap.
        self.mousePressEvent(event)

    def dataChanged(
        self, top_left: QModelIndex | QPersistentModelIndex, bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        # QListView repaints the whole viewport for any change. A card that kept its size (a struck item, an
        # armed bump zone) needs only its own rectangle; a card that grew or shrank moves the ones after it.
        if top_left == bottom_right and top_left.isValid():
            ticket: Ticket = top_left.data(Role.TICKET)
            layout = self.delegate.layout_for(ticket)
            if self.delegate.painted_size.get(ticket.key) == (layout.width, layout.height):
                QAbstractItemView.dataChanged(self, top_left, bottom_right, list(roles))
                return
            self.delegate.painted_size[ticket.key] = (layout.width, layout.height)  # what the relayout gives it
            self.scheduleDelayedItemsLayout()
        super().dataChanged(top_left, bottom_right, list(roles))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit()
        super().resizeEvent(event)

    def _fit(self) -> None:
        # The scroll bar is always there, so its width never flips the column count back and forth.
        available = self.viewport().width() - 2 * self.spacing()
        if self.delegate.fit_width(available, 2 * self.spacing()):
            self.scheduleDelayedItemsLayout()

    # ------------------------------------------------------------ empty state

    def paintEvent(self, event: QPaintEvent) -> None:
        # QListView hands the delegate every card in the dirty rows' band; the delegate skips the ones outside
        # the region Qt is repainting (a struck item repaints one card, not ten).
        self.delegate.paint_region = event.region()
        try:
            super().paintEvent(event)
        finally:
            self.delegate.paint_region = None
        if self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(theme.DONE_TEXT)
            font = painter.font()
            font.setPointSize(max(font.pointSize(), 24))
            painter.setFont(font)
            painter.drawText(self.viewport().rect(), int(Qt.AlignmentFlag.AlignCenter), self.empty_text)
            painter.end()
