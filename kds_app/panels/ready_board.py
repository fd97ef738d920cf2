"""The customer order-ready board: a second window with two columns, PREPARING and READY, of order numbers.

For a screen facing the dining room or the pickup counter, so: numbers only (customer names only when the
settings say so: a name on a public screen is personal data), type large enough to read across a room, no
buttons, no staff information, nothing to tap.

Driven by the orders' status as this screen's store holds it (the same engine as the cook's window, so no
extra device, token or connection): new or in progress → PREPARING; ready (every item done, which the order
machine turns into READY, or expo marked it) → READY, newest first so the number just called is at the top.
Served or cancelled → gone at once: served means the food was handed over, so the customer it was for is
already holding it, and a number lingering under READY would send the next person to the counter for
nothing. Redrawn from the store on every change the engine reports, like the cook's screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QMetaObject, QObject, QRect, Qt
from PySide6.QtGui import QCloseEvent, QColor, QFont, QFontMetrics, QGuiApplication, QPainter, QPaintEvent, QScreen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from api_client.models import ItemStatus, OrderStatus, OrderWithItems

from ..media import theme
from ..media.language import translate
from ..viewmodel.engine_bridge import EngineBridge

PREPARING = (OrderStatus.new, OrderStatus.in_progress)
MAX_NUMBER_PX = 120  # a 5 cm tall digit on a 1080p 40" screen: legible at 10 m
MIN_NUMBER_PX = 36


def is_ready(order: OrderWithItems) -> bool:
    """Ready, or every item done: the order row and its items reach a screen as separate changes, and a
    customer must not see their number go back to PREPARING while the row catches up with its items."""
    if order.status is OrderStatus.ready:
        return True
    live = [i for i in order.order_items if i.status is not ItemStatus.voided]
    return order.status in PREPARING and bool(live) and all(i.status is ItemStatus.done for i in live)


@dataclass(frozen=True)
class BoardState:
    preparing: tuple[str, ...]
    ready: tuple[str, ...]


def board_state(orders: Sequence[OrderWithItems], *, show_names: bool = False) -> BoardState:
    """What the board shows for these open orders (pure, for tests and the window alike)."""

    def label(order: OrderWithItems) -> str:
        name = (order.customer_name or "").strip()
        return f"{order.number} {name.split()[0]}" if show_names and name else order.number

    preparing = sorted((o for o in orders if not is_ready(o)), key=lambda o: (o.created_at, str(o.id)))
    ready = sorted((o for o in orders if is_ready(o)), key=lambda o: (o.updated_at, str(o.id)), reverse=True)
    return BoardState(tuple(label(o) for o in preparing), tuple(label(o) for o in ready))


class NumberColumn(QWidget):
    """The numbers of one column in a grid, as large as fits; painted, so hundreds cost no widgets."""

    def __init__(self, colour: QColor) -> None:
        super().__init__()
        self.colour = colour
        self.labels: tuple[str, ...] = ()

    def set_labels(self, labels: tuple[str, ...]) -> None:
        if labels != self.labels:
            self.labels = labels
            self.update()

    def _layout(self) -> tuple[QFont, int, int, int]:
        """(font, columns, cell width, cell height): the largest type at which every label fits."""
        font = QFont()
        font.setBold(True)
        width, height = max(1, self.width()), max(1, self.height())
        longest = max(self.labels, key=len, default="000")
        px = MAX_NUMBER_PX
        while True:
            font.setPixelSize(px)
            fm = QFontMetrics(font)
            cell_w = fm.horizontalAdvance(longest) + px  # a digit's width of air either side
            cell_h = fm.height() + px // 3
            columns = max(1, width // cell_w)
            rows = max(1, height // cell_h)
            if columns * rows >= len(self.labels) or px <= MIN_NUMBER_PX:
                return font, columns, width // columns, cell_h
            px -= 6

    def visible_count(self) -> int:
        """How many labels are shown: all that fit, or (when more than fit even at the smallest type) all but
        the last cell's worth, which says "+N" instead of dropping numbers silently."""
        _font, columns, _w, cell_h = self._layout()
        cells = columns * max(1, self.height() // cell_h)
        return len(self.labels) if len(self.labels) <= cells else max(0, cells - 1)

    def hidden_count(self) -> int:
        """The labels that did not fit: the "+N" in the last cell."""
        return len(self.labels) - self.visible_count()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font, columns, cell_w, cell_h = self._layout()
        painter.setFont(font)
        painter.setPen(self.colour)
        shown = self.visible_count()
        hidden = len(self.labels) - shown
        cells = [*self.labels[:shown], *([f"+{hidden}"] if hidden else [])]
        for i, text in enumerate(cells):
            row, col = divmod(i, columns)
            rect = QRect(col * cell_w, row * cell_h, cell_w, cell_h)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.end()


class ReadyBoard(QWidget):
    def __init__(self, bridge: EngineBridge, *, show_names: bool = False) -> None:
        """`bridge`: the cook's session's hub for its engine (the board reads the same store)."""
        super().__init__()
        self.setObjectName("ReadyBoard")
        self.setWindowTitle(translate("ReadyBoard", "Order status"))
        self.engine = bridge.engine
        self.show_names = show_names
        self.setStyleSheet(
            "#ReadyBoard { background: #000000; }"
            "#PreparingHeading, #ReadyHeading { font-size: 44pt; font-weight: bold; padding: 16px;"
            " border-radius: 12px; color: #ffffff; }"
            "#PreparingHeading { background: #37414d; }"
            "#ReadyHeading { background: #2e7d32; }"
            "#BoardDivider { background: #39424e; }"
        )
        self.preparing = NumberColumn(theme.MUTED)
        self.ready = NumberColumn(QColor("#ffffff"))
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 24, 24, 24)
        row.setSpacing(24)
        for title, name, column in ((translate("ReadyBoard", "PREPARING"), "PreparingHeading", self.preparing),
                                    (translate("ReadyBoard", "READY"), "ReadyHeading", self.ready)):
            box = QVBoxLayout()
            box.setSpacing(16)
            heading = QLabel(title)
            heading.setObjectName(name)
            heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.addWidget(heading)
            box.addWidget(column, 1)
            row.addLayout(box, 1)
            if column is self.preparing:
                divider = QWidget()
                divider.setObjectName("BoardDivider")
                divider.setFixedWidth(4)
                divider.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
                row.addWidget(divider)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._listening: QMetaObject.Connection | None = bridge.changes.connect(self._changed)
        self.refresh()

    def _changed(self, _order_ids: frozenset[object]) -> None:
        self.refresh()  # the board is small: redrawn whole, whichever orders changed

    def refresh(self) -> None:
        state = board_state(self.engine.open_tickets(None), show_names=self.show_names)
        self.preparing.set_labels(state.preparing)
        self.ready.set_labels(state.ready)

    def preparing_numbers(self) -> tuple[str, ...]:
        return self.preparing.labels

    def ready_numbers(self) -> tuple[str, ...]:
        return self.ready.labels

    def detach(self) -> None:
        if self._listening is not None:
            QObject.disconnect(self._listening)
            self._listening = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.detach()
        super().closeEvent(event)


def show_on_second_display(board: ReadyBoard, cooks: QScreen | None = None, *, fullscreen: bool) -> None:
    """On a display other than `cooks` (the one the cook's window is on; default the primary) when there is one,
    else as a window. Not simply the second in Qt's list: which display that is depends on the platform."""
    cooks = cooks or QGuiApplication.primaryScreen()
    others = [s for s in QGuiApplication.screens() if s is not cooks]
    if others:
        board.setScreen(others[0])
        board.setGeometry(others[0].availableGeometry())
        if fullscreen:
            board.showFullScreen()
            return
    else:
        board.resize(1280, 720)
    board.show()
