"""The recall drawer: tickets bumped in the last 30 minutes, newest first, each with its items and a big RECALL
button, under a large RECALL LAST for the ticket bumped a moment ago by mistake (the bump bar's recall key does
the same).

A short list (a busy half hour is a few dozen tickets), so plain widgets serve; the open tickets, which
can be hundreds, are painted by the grid's delegate instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from api_client.models import ItemStatus

from ..cards.card_layout import TIMES, header_lines
from ..cards.ticket_delegate import format_age
from ..media.language import translate
from ..viewmodel.ticket_model import Ticket
from .side_panel import SidePanel, panel_header, scrolling_rows

LAST_HEIGHT_PX = 96  # RECALL LAST, the undo of a wrong bump: half again a row's button, found without reading


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
        self.button = QPushButton(translate("Recall", "RECALL"))
        self.button.setObjectName("RecallButton")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)

    def set_now(self, now: datetime) -> None:
        ticket = self.ticket
        where = f" · {ticket.station.upper()}" if ticket.station else ""
        first, _ = header_lines(ticket.order)
        ago = format_age((now - self.bumped_at).total_seconds())
        lines = [f"<b>#{escape(ticket.order.number)}</b>{where}", escape(first), *self.item_lines()]
        self.label.setText("<br>".join([*lines, escape(translate("Recall", "bumped {age} ago").format(age=ago))]))

    def item_lines(self) -> list[str]:
        """What was on the ticket (a cook finds the one to bring back by its dishes, not its number)."""
        return [
            f"{item.quantity}{TIMES} {escape(item.name)}"
            + "".join(f" · {escape(m)}" for m in item.modifiers)
            for item in self.ticket.order.order_items
            if item.status is not ItemStatus.voided
        ]


class RecallDrawer(SidePanel):
    recall_requested = Signal(object)  # Ticket
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecallDrawer")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.close_button = panel_header(outer, translate("Recall", "Recall"), "DrawerTitle", self.close_requested)
        self.last = QPushButton(translate("Recall", "RECALL LAST"))
        self.last.setObjectName("RecallLast")
        self.last.setMinimumHeight(LAST_HEIGHT_PX)
        self.last.setEnabled(False)
        self.last.clicked.connect(self._recall_last)
        outer.addWidget(self.last)
        self.hint = QLabel(translate("Recall", "Nothing bumped in the last 30 minutes"))
        self.hint.setObjectName("EmptyHint")
        self.hint.setWordWrap(True)
        outer.addWidget(self.hint)
        self._rows = scrolling_rows(outer)
        self._rows.addStretch(1)
        self.rows: list[RecallRow] = []

    def _recall_last(self) -> None:
        if self.rows:  # newest first
            self.recall_requested.emit(self.rows[0].ticket)

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
        self.last.setEnabled(bool(bumped))
