"""The all-day side panel: one big line per item still to cook ("7  BURGER"), largest first.

Recounted from the ticket model after every redraw (`Screen.refreshed`), so it moves in the same frame as
the cards: a POS order raises it, a strike or a bump anywhere lowers it. A few dozen lines at most, so a
recount is cheap; the model still changes rows in place when the lines stay in the same order, so the list
does not jump back to the top while the numbers tick down.

Below the items, INGREDIENTS: the same outstanding items counted through their recipes ("6 PATTY" for three
double burgers), from the engine's recipes, which the local store keeps, so they count offline too. Shown only
when some item on the screen has a recipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ..media import theme
from ..media.language import translate
from ..viewmodel.all_day import AllDayLine, all_day_counts, ingredient_counts
from ..viewmodel.ticket_model import Ticket
from .side_panel import PANEL_NARROW, panel_header

Index = QModelIndex | QPersistentModelIndex
LINE_ROLE = Qt.ItemDataRole.UserRole + 1
# Fixed, so a wrapped modifier mix is measured and painted at one width; the side panels' narrow width, so the
# window with ALL DAY open still fits a 1366-pixel screen (500 made it 1771 wide there, its buttons off the glass).
PANEL_WIDTH = PANEL_NARROW


class AllDayModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._lines: list[AllDayLine] = []
        self.show_station = False  # expo or an all-stations screen: say whose line it is

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._lines)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            where = f" ({line.station})" if self.show_station else ""
            return f"{line.quantity} {line.name}{where}"
        if role == LINE_ROLE:
            return line
        return None

    def lines(self) -> list[AllDayLine]:
        return list(self._lines)

    def set_lines(self, lines: Sequence[AllDayLine]) -> None:
        new = list(lines)
        if [line.key for line in new] == [line.key for line in self._lines]:
            for row, line in enumerate(new):
                if line != self._lines[row]:
                    self._lines[row] = line
                    idx = self.index(row)
                    self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole, LINE_ROLE])
            return
        # Lines came, went or changed places: a short list, so a reset is simpler than moves and costs nothing.
        self.beginResetModel()
        self._lines = new
        self.endResetModel()

    def count_tickets(self, tickets: Sequence[Ticket]) -> None:
        lines = all_day_counts(tickets)
        self.show_station = len({line.station for line in lines}) > 1 or any(t.station is None for t in tickets)
        self.set_lines(lines)


class AllDayDelegate(QStyledItemDelegate):
    """Quantity and name in large type, readable from the pass; the modifier mix smaller underneath."""

    def __init__(self, font_pt: int) -> None:
        super().__init__()
        self.big = QFont()  # the quantity: the one thing read from across the line
        self.big.setPointSize(round(font_pt * 1.6))
        self.big.setBold(True)
        # The name a size down, so "Chicken skewers" fits the panel whole: an elided name at 2 m is a guess.
        self.name = QFont()
        self.name.setPointSize(round(font_pt * 1.2))
        self.name.setBold(True)
        self.small = QFont()
        self.small.setPointSize(max(12, round(font_pt * 0.9)))

    def _text(self, line: AllDayLine, show_station: bool) -> str:
        return f"{line.name}  ·  {line.station.upper()}" if show_station else line.name

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line: AllDayLine = index.data(LINE_ROLE)
        height = QFontMetrics(self.big).height() + 16
        if line.variants:
            rect = QFontMetrics(self.small).boundingRect(
                QRect(0, 0, self._text_width(), 10_000), int(Qt.TextFlag.TextWordWrap), line.variants_text()
            )
            height += rect.height() + 8
        return QSize(PANEL_WIDTH - 40, height)

    def _text_width(self) -> int:
        # Measured and painted at the same width (the panel is fixed; room left for a scroll bar), so a
        # wrapped modifier mix is never cut off at the bottom.
        return PANEL_WIDTH - 24 - 36 - 24 - QFontMetrics(self.big).horizontalAdvance("00") - 16

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        line: AllDayLine = index.data(LINE_ROLE)
        model = index.model()
        show_station = bool(getattr(model, "show_station", False))
        rect = option.rect
        painter.save()
        painter.setPen(QPen(theme.CARD_BORDER, 1))
        painter.drawLine(rect.left() + 8, rect.bottom(), rect.right() - 8, rect.bottom())
        fm = QFontMetrics(self.big)
        row = QRect(rect.left() + 12, rect.top() + 8, rect.width() - 24, fm.height())
        qty_width = fm.horizontalAdvance("00")  # two digits; a three-digit all-day still draws, overhanging left
        painter.setFont(self.big)
        painter.setPen(theme.AGE_WARN)  # the number is what the eye looks for: the brightest thing on the line
        painter.drawText(QRect(row.left(), row.top(), qty_width, row.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), str(line.quantity))
        name_rect = QRect(row.left() + qty_width + 16, row.top(), row.width() - qty_width - 16, row.height())
        painter.setPen(theme.TEXT)
        painter.setFont(self.name)
        painter.drawText(name_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         QFontMetrics(self.name).elidedText(self._text(line, show_station),
                                                            Qt.TextElideMode.ElideRight, name_rect.width()))
        if line.variants:
            painter.setFont(self.small)
            painter.setPen(theme.MUTED)
            below = QRect(name_rect.left(), row.bottom() + 2, self._text_width(), rect.bottom() - row.bottom() - 2)
            painter.drawText(below, int(Qt.TextFlag.TextWordWrap), line.variants_text())
        painter.restore()


def _count_list(name: str, model: AllDayModel, font_pt: int) -> QListView:
    view = QListView()
    view.setObjectName(name)
    view.setModel(model)
    view.setItemDelegate(AllDayDelegate(font_pt))
    view.setSelectionMode(QListView.SelectionMode.NoSelection)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the bump bar's keys stay with the tickets
    view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


class AllDayPanel(QFrame):
    close_requested = Signal()

    def __init__(self, font_pt: int = 18, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AllDayPanel")
        self.setFixedWidth(PANEL_WIDTH)
        self.setStyleSheet(
            "#AllDayPanel { background: #14181d; border-left: 3px solid #39424e; }"
            "#AllDayTitle { font-size: 24pt; font-weight: bold; }"
            "#AllDayEmpty { color: #6f7b89; font-size: 22pt; }"
            "#AllDayList, #IngredientList { background: #14181d; border: none; }"
            "#IngredientTitle { color: #9aa7b6; font-size: 16pt; font-weight: bold; padding-top: 8px;"
            " border-top: 2px solid #39424e; }"
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        self.close_button = panel_header(outer, translate("AllDay", "ALL DAY"), "AllDayTitle", self.close_requested)
        self.empty = QLabel(translate("AllDay", "Nothing to cook"))
        self.empty.setObjectName("AllDayEmpty")
        outer.addWidget(self.empty)
        self.model = AllDayModel()
        self.view = _count_list("AllDayList", self.model, font_pt)
        outer.addWidget(self.view, 1)
        self.ingredients_title = QLabel(translate("AllDay", "INGREDIENTS"))
        self.ingredients_title.setObjectName("IngredientTitle")
        outer.addWidget(self.ingredients_title)
        self.ingredients = AllDayModel()
        self.ingredients_view = _count_list("IngredientList", self.ingredients, font_pt)
        # As tall as its lines, at most half of what the two lists share: the dishes keep the rest.
        outer.addWidget(self.ingredients_view, 1)
        self.ingredients_title.hide()
        self.ingredients_view.hide()

    def update_counts(
        self, tickets: Sequence[Ticket], recipes: Mapping[str, tuple[tuple[str, int], ...]] | None = None
    ) -> None:
        self.model.count_tickets(tickets)
        self.empty.setVisible(self.model.rowCount() == 0)
        self.ingredients.set_lines(ingredient_counts(tickets, recipes or {}))
        has_ingredients = self.ingredients.rowCount() > 0
        view = self.ingredients_view
        rows = sum(view.sizeHintForRow(row) for row in range(self.ingredients.rowCount()))
        view.setMaximumHeight(rows + 2 * view.frameWidth() + 2)
        self.ingredients_title.setVisible(has_ingredients)
        self.ingredients_view.setVisible(has_ingredients)

    def quantities(self) -> dict[str, int]:
        """Name → outstanding quantity (summed over stations): what a test or a screen reader wants."""
        found: dict[str, int] = {}
        for line in self.model.lines():
            found[line.name] = found.get(line.name, 0) + line.quantity
        return found

    def ingredient_quantities(self) -> dict[str, int]:
        """Ingredient → quantity needed for the outstanding items, as the INGREDIENTS list shows it."""
        return {line.name: line.quantity for line in self.ingredients.lines()}
