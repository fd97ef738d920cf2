"""The 86 panel and strip: what the kitchen has run out of, on every screen, and the buttons to change it.

The strip sits in the top bar on every screen while anything is 86'd ("86: Calamari, Burrata"), red, in a
large font: a cook reads it from the line. The panel (the top bar's 86 button) lists what is 86'd now, each
with an UN-86 button, and the items still to cook on this screen's tickets, each with an 86 button: opening
the panel is the first deliberate step, the button the second, so no stray touch runs an item out.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from api_client.menu_rules import menu_key

from ..cards.card_layout import TIMES
from ..media.language import translate
from .fitted_label import FittedLabel
from .side_panel import SidePanel, panel_header, scrolling_rows

STRIP_STYLE = (
    "QLabel#EightySixStrip { background: #c62828; color: #ffffff; font-size: 22pt; font-weight: bold;"
    " padding: 8px 14px; }"
)


SMALLEST = 2 / 3  # of its type: the strip's text is never smaller


def strip_text(names: tuple[str, ...]) -> str:
    return translate("EightySix", "86: {names}").format(names=", ".join(names))


def count_text(n: int) -> str:
    """The strip cut down to how many are out: "86" and the count."""
    return translate("EightySix", "86 {times}{n}").format(times=TIMES, n=n)


class EightySixStrip(FittedLabel):
    """In the top bar on every screen while the 86 list is not empty (`TopBar.add_strip`)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("EightySixStrip")
        self.setStyleSheet(STRIP_STYLE)
        self.setWordWrap(True)
        self.names: tuple[str, ...] = ()
        self.hide()

    def set_names(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.setText(strip_text(names))
        self.setVisible(bool(names))

    def least_width(self) -> int:
        """The room "86" and the count take in the strip's smallest type: what the top bar keeps for it where it can
        (`TopBar.add_strip`), so what is out stays on the glass when the bar is cramped."""
        self.ensurePolished()
        font = QFont(self.font())
        smallest = SMALLEST * self.font().pointSizeF()
        while font.pointSizeF() - 1 >= smallest:  # as far down as `shown_font` goes
            font.setPointSizeF(font.pointSizeF() - 1)
        padding = self.rect().width() - self.contentsRect().width()
        return QFontMetrics(font).horizontalAdvance(count_text(len(self.names))) + padding + 2

    def shown_text(self) -> str:
        """What fits the room the bar leaves it: the whole list, else the list cut short with at least a few
        letters of the first name, else how many are out ("86" and the count, smaller if need be), never a
        character cut in half (a 1366-pixel bar with a long sync line leaves it a finger's width). The 86 button's
        panel has the list."""
        cut = super().shown_text()
        if cut == self.text() or len(cut) >= len(strip_text(())) + 4:  # whole, or at least "86: Cal…"
            return cut
        return count_text(len(self.names))

    def shown_font(self, text: str) -> QFont:
        """Smaller (down to two thirds) where even the count does not fit at the strip's size."""
        return self.shrunk_font(text, SMALLEST)


class EightySixRow(QFrame):
    def __init__(self, name: str, *, out: bool) -> None:
        """`out`: 86'd now, with UN-86; else on the tickets, with a red 86."""
        super().__init__()
        self.setObjectName("RecallRow")  # the drawer rows' look
        self.name = name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(name)
        self.label.setWordWrap(True)
        self.button = QPushButton(translate("EightySix", "UN-86") if out else translate("EightySix", "86"))
        if not out:
            self.button.setStyleSheet("background: #c62828;")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)


class EightySixPanel(SidePanel):
    eighty_six_requested = Signal(str)  # item name: run out
    back_requested = Signal(str)  # item name: available again (UN-86)
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecallDrawer")  # the drawer's look: same place, same frame
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.close_button = panel_header(outer, translate("EightySix", "86 items"), "DrawerTitle", self.close_requested)
        self._rows = scrolling_rows(outer)
        self.out_rows: list[EightySixRow] = []  # 86'd now, with UN-86
        self.menu_rows: list[EightySixRow] = []  # on this screen's tickets, with 86

    def set_items(self, eighty_sixed: tuple[str, ...], on_tickets: list[str]) -> None:
        while self._rows.count():
            taken = self._rows.takeAt(0)
            if taken is not None and taken.widget() is not None:
                taken.widget().deleteLater()
        self.out_rows, self.menu_rows = [], []
        heading = translate("EightySix", "86'd now") if eighty_sixed else translate("EightySix", "Nothing is 86'd")
        self._rows.addWidget(self._heading(heading))
        for name in eighty_sixed:
            row = EightySixRow(name, out=True)
            row.button.clicked.connect(lambda _=False, n=name: self.back_requested.emit(n))
            self._rows.addWidget(row)
            self.out_rows.append(row)
        out = {menu_key(n) for n in eighty_sixed}
        left = [n for n in on_tickets if menu_key(n) not in out]
        if left:
            heading = translate("EightySix", "On the tickets here")
        else:
            heading = translate("EightySix", "No other items on the tickets here")
        self._rows.addWidget(self._heading(heading))
        for name in left:
            row = EightySixRow(name, out=False)
            row.button.clicked.connect(lambda _=False, n=name: self.eighty_six_requested.emit(n))
            self._rows.addWidget(row)
            self.menu_rows.append(row)
        self._rows.addStretch(1)

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("DrawerTitle")
        return label
