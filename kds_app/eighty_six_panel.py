"""The 86 panel and strip: what the kitchen has run out of, on every screen, and the buttons to change it.

The strip sits under the top bar on every screen while anything is 86'd ("86: Calamari, Burrata"), red, in a
large font: a cook reads it from the line. The panel (the top bar's 86 button) lists what is 86'd now, each
with an UN-86 button, and the items still to cook on this screen's tickets, each with an 86 button: opening
the panel is the first deliberate step, the button the second, so no stray touch runs an item out.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .side_panel import panel_header, scrolling_rows

STRIP_STYLE = (
    "QLabel#EightySixStrip { background: #c62828; color: #ffffff; font-size: 22pt; font-weight: bold;"
    " padding: 8px 20px; }"
)


def strip_text(names: tuple[str, ...]) -> str:
    return "86: " + ", ".join(names)


class EightySixStrip(QLabel):
    """Under the top bar on every screen while the 86 list is not empty."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("EightySixStrip")
        self.setStyleSheet(STRIP_STYLE)
        self.setWordWrap(True)
        self.hide()

    def set_names(self, names: tuple[str, ...]) -> None:
        self.setText(strip_text(names))
        self.setVisible(bool(names))


class EightySixRow(QFrame):
    def __init__(self, name: str, button_text: str) -> None:
        super().__init__()
        self.setObjectName("RecallRow")  # the drawer rows' look
        self.name = name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(name)
        self.label.setWordWrap(True)
        self.button = QPushButton(button_text)
        if button_text == "86":
            self.button.setStyleSheet("background: #c62828;")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)


class EightySixPanel(QFrame):
    eighty_six_requested = Signal(str)  # item name: run out
    back_requested = Signal(str)  # item name: available again (UN-86)
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecallDrawer")  # the drawer's look: same place, same frame
        self.setFixedWidth(520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.close_button = panel_header(outer, "86 items", "DrawerTitle", self.close_requested)
        self._rows = scrolling_rows(outer)
        self.out_rows: list[EightySixRow] = []  # 86'd now, with UN-86
        self.menu_rows: list[EightySixRow] = []  # on this screen's tickets, with 86

    def set_items(self, eighty_sixed: tuple[str, ...], on_tickets: list[str]) -> None:
        while self._rows.count():
            taken = self._rows.takeAt(0)
            if taken is not None and taken.widget() is not None:
                taken.widget().deleteLater()
        self.out_rows, self.menu_rows = [], []
        self._rows.addWidget(self._heading("86'd now" if eighty_sixed else "Nothing is 86'd"))
        for name in eighty_sixed:
            row = EightySixRow(name, "UN-86")
            row.button.clicked.connect(lambda _=False, n=name: self.back_requested.emit(n))
            self._rows.addWidget(row)
            self.out_rows.append(row)
        out = {n.lower() for n in eighty_sixed}
        left = [n for n in on_tickets if n.lower() not in out]
        self._rows.addWidget(self._heading("On the tickets here" if left else "No other items on the tickets here"))
        for name in left:
            row = EightySixRow(name, "86")
            row.button.clicked.connect(lambda _=False, n=name: self.eighty_six_requested.emit(n))
            self._rows.addWidget(row)
            self.menu_rows.append(row)
        self._rows.addStretch(1)

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("DrawerTitle")
        return label
