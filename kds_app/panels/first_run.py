"""What a newcomer sees on the empty screen of a first start: what to do next (try the demo, send orders from a
POS, connect in SETTINGS). Over the middle of the grid, instead of "No open tickets"; gone with the first ticket,
and never there again once settings were saved."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from ..cards.ticket_grid import TicketGrid
from ..media.language import translate
from ..viewmodel.ticket_model import TicketModel

__all__ = ["FIRST_RUN_TEXT", "FirstRunHint"]

FIRST_RUN_TEXT = QT_TRANSLATE_NOOP(
    "FirstRun",
    "<h2>This screen is ready. No tickets yet.</h2>"
    "<p><b>Just looking?</b> Close this window and run <code>kds --demo</code>: a simulated POS sends orders to a "
    "grill and an expo screen.</p>"
    "<p><b>Orders from a POS:</b> the POS sends <code>POST /api/v1/orders</code> to this screen's server; "
    "README, \"Sending orders\", shows one with curl.</p>"
    "<p><b>A kitchen hub or Supabase?</b> Tap <b>SETTINGS</b> → <i>Pair with code</i>: on the hub run "
    "<code>kds-backend pair --restaurant … --station grill</code> and enter the code it prints.</p>",
)


class FirstRunHint(QFrame):
    """A card of text centred over `grid`, shown while the grid has no ticket."""

    def __init__(self, grid: TicketGrid, model: TicketModel) -> None:
        super().__init__(grid)
        self.setObjectName("FirstRunHint")
        self.grid = grid
        self.model = model
        self._grid_text = grid.empty_text
        self.setStyleSheet(
            "#FirstRunHint { background: #1c2330; border: 2px solid #3d4b63; border-radius: 12px; }"
            "#FirstRunHint QLabel { color: #e8ecf2; font-size: 20px; }"
        )
        self.label = QLabel(translate("FirstRun", FIRST_RUN_TEXT))
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(28, 20, 28, 24)
        self._layout.addWidget(self.label)
        grid.installEventFilter(self)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self.follow)
        self.follow()

    def follow(self, *_: object) -> None:
        """Shown over an empty grid, hidden once a ticket is there."""
        empty = self.model.rowCount() == 0
        self.setVisible(empty)
        # The grid's own "No open tickets" would peek out from behind the card; it says it again once this goes.
        self.grid.empty_text = "" if empty else self._grid_text
        self.grid.update()
        if empty:
            self.place()
            self.raise_()

    def place(self) -> None:
        room = self.grid.rect()
        width = min(820, room.width() - 32)
        self.setFixedWidth(max(width, 200))
        height = min(self._layout.totalHeightForWidth(self.width()) + 8, room.height() - 16)
        self.setFixedHeight(max(height, 80))
        top = room.y() + max(8, (room.height() - self.height()) // 3)
        self.move(room.x() + (room.width() - self.width()) // 2, top)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid and event.type() == QEvent.Type.Resize and not self.isHidden():
            self.place()
        return False
