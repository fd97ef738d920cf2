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
        where = f" · {ticket.station.upper()}" if ticket.station else ""
        first, _ = header_lines(ticket.order)
        ago = format_age((now - bumped_at).total_seconds())
        self.label = QLabel(f"<b>#{ticket.order.number}</b>{where}<br>{first}<br>bumped {ago} ago")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.button = QPushButton("RECALL")
        self.button.setObjectName("RecallButton")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)


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
        for row in self.rows:
            self._rows.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for ticket, when in bumped:
            row = RecallRow(ticket, when, now)
            row.button.clicked.connect(lambda _=False, t=ticket: self.recall_requested.emit(t))
            self._rows.insertWidget(self._rows.count() - 1, row)
            self.rows.append(row)
        self.hint.setVisible(not bumped)
