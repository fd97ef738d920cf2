"""The parts every side panel of the cook's window shares (recall, 86, all-day): a title with a big CLOSE
button, and a scrolling column of rows."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, SignalInstance
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ..media.language import translate


def panel_header(outer: QVBoxLayout, title: str, object_name: str, close: SignalInstance) -> QPushButton:
    """Adds "title ........ CLOSE" to `outer`; CLOSE emits `close`. Returns the button (tests tap it)."""
    head = QHBoxLayout()
    label = QLabel(title)
    label.setObjectName(object_name)
    button = QPushButton(translate("SidePanel", "CLOSE"))
    button.clicked.connect(close)
    head.addWidget(label, 1)
    head.addWidget(button)
    outer.addLayout(head)
    return button


def scrolling_rows(outer: QVBoxLayout) -> QVBoxLayout:
    """Adds a vertically scrolling, frameless column to `outer` (taking the spare height); returns its layout."""
    box = QWidget()
    rows = QVBoxLayout(box)
    rows.setContentsMargins(0, 0, 0, 0)
    rows.setSpacing(8)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(box)
    outer.addWidget(scroll, 1)
    return rows


PANEL_WIDE = 520  # a side panel's width where the window has the room
PANEL_NARROW = 400  # ...and where it has not: the cards' page bar keeps its buttons and its count


class SidePanel(QFrame):
    """A panel beside the cards: 520 px wide where the window has the room, down to 400 where it has not, so the
    window with a panel open still fits a 1366-pixel screen (a fixed 520 made it 1391 wide there)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(PANEL_NARROW)
        self.setMaximumWidth(PANEL_WIDE)

    def sizeHint(self) -> QSize:
        return QSize(PANEL_WIDE, super().sizeHint().height())
