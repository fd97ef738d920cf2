"""The station picker: where MOVE sends a ticket or one item (issue 19, item 2: the grill is swamped, the flat-top
is free).

Laid over the middle of the card area, like the refusal over its foot, so opening it moves no card; a button a
station, a finger's size each (wider than tall, three a row), and CANCEL in its own row, apart from the
stations, so a hurried tap cannot take one for the other.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..cards.card_layout import MIN_TOUCH_PX
from ..media.language import translate

COLUMNS = 3
STYLE = (
    "QFrame#StationPicker { background: #14181d; border: 3px solid #90caf9; border-radius: 14px; }"
    " QLabel#PickerTitle { color: #f5f7fa; font-size: 22pt; font-weight: bold; }"
    " QLabel#PickerHint { color: #9aa5b1; font-size: 16pt; }"
    # A finger's size and more: 80 px tall (20 mm on a 22" 1080p panel), 200 px wide ("FLAT TOP" with room).
    f" QPushButton {{ min-height: {MIN_TOUCH_PX + 20}px; min-width: 200px; font-size: 20pt; }}"
    " QPushButton#PickerCancel { background: #111111; color: #f5f7fa; border: 2px solid #6f7b89; }"
)


class StationPicker(QFrame):
    chosen = Signal(str)  # the station to move to
    cancelled = Signal()

    def __init__(self, over: QWidget) -> None:
        super().__init__(over)
        self._over = over
        self.setObjectName("StationPicker")
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        self.title = QLabel()
        self.title.setObjectName("PickerTitle")
        self.title.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("PickerHint")
        self.hint.setWordWrap(True)
        self._grid = QGridLayout()
        self._grid.setSpacing(12)
        self.cancel = QPushButton(translate("StationPicker", "CANCEL"))
        self.cancel.setObjectName("PickerCancel")
        self.cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel.clicked.connect(self._cancel)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addLayout(self._grid)
        layout.addSpacing(10)
        layout.addWidget(self.cancel)
        self.buttons: dict[str, QPushButton] = {}
        self.stations: list[str] = []
        over.installEventFilter(self)
        self.hide()

    def ask(self, title: str, stations: list[str], hint: str = "") -> None:
        """Show the stations (name order) under `title`; a tap on one says `chosen`."""
        for button in self.buttons.values():
            self._grid.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        self.stations = list(stations)
        for n, station in enumerate(stations):
            # Numbered for the bump bar's keys (1-9 choose, `choose_nth`); the name is what a finger reads.
            number = f"{n + 1}  " if n < 9 else ""
            button = QPushButton(number + station.upper().replace("_", " "))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the bump bar's keys stay with the cards
            button.clicked.connect(lambda _=False, s=station: self.chosen.emit(s))
            self._grid.addWidget(button, n // COLUMNS, n % COLUMNS)
            self.buttons[station] = button
        self.title.setText(title)
        none = translate("StationPicker", "No other station is known yet: ask the manager to add one")
        self.hint.setText(hint or ("" if stations else none))
        self.hint.setVisible(bool(self.hint.text()))
        self.show()
        self.place()
        self.raise_()

    def choose_nth(self, n: int) -> None:
        """The bump bar's number key: the nth station shown (1-based), if there is one."""
        if 1 <= n <= len(self.stations):
            self.chosen.emit(self.stations[n - 1])

    def place(self) -> None:
        """In the middle of the card area, as large as its buttons want and never larger than the area."""
        area = self._over.rect()
        self.adjustSize()
        hint = self.sizeHint()
        w, h = min(hint.width(), area.width() - 20), min(hint.height(), area.height() - 20)
        self.setGeometry(QRect(area.center().x() - w // 2, area.center().y() - h // 2, w, h))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._over and event.type() is QEvent.Type.Resize and self.isVisible():
            self.place()
        return False

    def _cancel(self) -> None:
        self.hide()
        self.cancelled.emit()
