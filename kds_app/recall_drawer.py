"""The recall drawer: tickets bumped in the last 30 minutes, newest first, each with a big RECALL button.

A short list (a busy half hour is a few dozen tickets), so plain widgets serve; the open tickets, which
can be hundreds, are painted by the grid's delegate instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .card_layout import header_lines
from .side_panel import panel_header, scrolling_rows
from .ticket_delegate import format_age
from .ticket_model import Ticket


class RecallRow(QFrame):
    def __init__(self, ticket: Ticket, bumped_at: datetime, now: datetime) -> None:
        super().__init__()
        self.setObjectName("RecallRow")
        self.ticket = ticket
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.bumped_at = bumped_at
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.set_now(now)
        self.button = QPushButton("RECALL")
        self.button.setObjectName("RecallButton")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)

    def set_now(self, now: datetime) -> None:
        ticket = self.ticket
        where = f" · {ticket.station.upper()}" if ticket.station else ""
        first, _ = header_lines(ticket.order)
        ago = format_age((now - self.bumped_at).total_seconds())
        self.label.setText(f"<b>#{ticket.order.number}</b>{where}<br>{first}<br>bumped {ago} ago")


class RecallDrawer(QFrame):
    recall_requested = Signal(object)  # Ticket
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecallDrawer")
        self.setFixedWidth(520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.close_button = panel_header(outer, "Recall", "DrawerTitle", self.close_requested)
        self.hint = QLabel("Nothing bumped in the last 30 minutes")
        self.hint.setObjectName("EmptyHint")
        self.hint.setWordWrap(True)
        outer.addWidget(self.hint)
        self._rows = scrolling_rows(outer)
        self._rows.addStretch(1)
        self.rows: list[RecallRow] = []

    def set_tickets(self, bumped: list[tuple[Ticket, datetime]], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        if [(t.order, t.station, w) for t, w in bumped] == [
            (r.ticket.order, r.ticket.station, r.bumped_at) for r in self.rows
        ]:
            # The same tickets (a change elsewhere redrew the screen): the buttons stay where the finger is.
            for row in self.rows:
                row.set_now(now)
            return
        for row in self.rows:
            self._rows.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for ticket, when in bumped:
            row = RecallRow(ticket, when, now)
            row.button.clicked.connect(lambda _=False, t=ticket: self.recall_requested.emit(t))
            self._rows.insertWidget(self._rows.count() - 1, row)
            # Shown now, not at the layout's next pass (Qt shows a child added to a visible parent later): a
            # row must be tappable the moment it is on the list.
            row.show()
            self.rows.append(row)
        self.hint.setVisible(not bumped)
