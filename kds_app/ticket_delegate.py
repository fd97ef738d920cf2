"""Paints one ticket card from its layout: one delegate for every card, no widget per card."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QRegion
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from api_client.models import ItemStatus

from . import theme
from .card_layout import PAD, WRAP, CardFonts, CardLayout, CardMode, ItemBlock, LineStyle, header_lines, is_rush
from .card_layout import layout_card as compute_layout
from .ticket_model import Role, Ticket

Thresholds = Callable[[str | None], tuple[int, int]]
Index = QModelIndex | QPersistentModelIndex


def format_age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def age_colours(age_s: float, thresholds: tuple[int, int]) -> tuple[QColor, QColor]:
    warn, late = thresholds
    if age_s >= late:
        return theme.AGE_LATE, theme.AGE_LATE_TEXT
    if age_s >= warn:
        return theme.AGE_WARN, theme.AGE_WARN_TEXT
    return theme.AGE_OK, theme.AGE_OK_TEXT


class TicketDelegate(QStyledItemDelegate):
    def __init__(self, font_pt: int, thresholds: Thresholds) -> None:
        super().__init__()
        self.fonts = CardFonts(font_pt)
        self.thresholds = thresholds
        self.card_width = self.fonts.card_width()
        self._cache: dict[str, tuple[Ticket, CardLayout]] = {}
        self.paint_region: QRegion | None = None  # set by the grid while it paints: what Qt is repainting
        self.painted_size: dict[str, tuple[int, int]] = {}  # key -> the card's size when last drawn

    def set_font_size(self, font_pt: int) -> None:
        self.fonts = CardFonts(font_pt)
        self.card_width = self.fonts.card_width()
        self._cache.clear()

    def fit_width(self, available: int, gap: int) -> bool:
        """Stretch the cards so whole columns fill `available` pixels; True if the width changed."""
        base = self.fonts.card_width()
        columns = max(1, (available + gap) // (base + gap))
        width = max(base, (available + gap) // columns - gap)
        if width == self.card_width:
            return False
        self.card_width = width
        self._cache.clear()
        return True

    def layout_for(self, ticket: Ticket) -> CardLayout:
        cached = self._cache.get(ticket.key)
        if cached is not None and cached[0] is ticket:
            return cached[1]
        mode = CardMode.EXPO if ticket.station is None else CardMode.STATION
        layout = compute_layout(ticket.order, self.fonts, mode, self.card_width)
        if len(self._cache) > 2000:  # tickets come and go all service; forget the ones long gone
            self._cache.clear()
        self._cache[ticket.key] = (ticket, layout)
        return layout

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        ticket: Ticket = index.data(Role.TICKET)
        layout = self.layout_for(ticket)
        return QSize(layout.width, layout.height)

    # ------------------------------------------------------------ painting

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        ticket: Ticket = index.data(Role.TICKET)
        if len(self.painted_size) > 2000:
            self.painted_size.clear()
        self.painted_size[ticket.key] = (option.rect.width(), option.rect.height())
        if self.paint_region is not None and not self.paint_region.intersects(option.rect):
            return
        layout = self.layout_for(ticket)
        age_s: float = index.data(Role.AGE_S)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(option.rect.topLeft())
        self._card(painter, ticket, layout, highlight=index.data(Role.HIGHLIGHT))
        self._header(painter, ticket, layout, age_s)
        if layout.order_note is not None:
            painter.setFont(self.fonts.note)
            painter.setPen(theme.CHANGED)
            painter.drawText(layout.order_note.rect, WRAP, layout.order_note.text)
        for header in layout.stations:
            self._station_header(painter, header.rect, header.station, header.done, header.total)
        for block in layout.items:
            self._item(painter, block, layout.width)
        self._action(painter, ticket, layout, armed=index.data(Role.ARMED))
        painter.restore()

    def _card(self, painter: QPainter, ticket: Ticket, layout: CardLayout, *, highlight: bool) -> None:
        rect = QRect(0, 0, layout.width, layout.height)
        painter.setBrush(theme.CARD)
        border = theme.NEW_HIGHLIGHT if highlight else theme.RUSH if is_rush(ticket.order) else theme.CARD_BORDER
        painter.setPen(QPen(border, 6 if highlight or is_rush(ticket.order) else 2))
        painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 10, 10)

    def _header(self, painter: QPainter, ticket: Ticket, layout: CardLayout, age_s: float) -> None:
        order = ticket.order
        fill, ink = age_colours(age_s, self.thresholds(ticket.station))
        head = layout.header.adjusted(4, 4, -4, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(head, 8, 8)
        painter.setPen(ink)
        fm_number = QFontMetrics(self.fonts.number)
        top = head.top() + 4
        number_rect = QRect(PAD, top, layout.width - 2 * PAD, fm_number.height())
        painter.setFont(self.fonts.number)
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(number_rect, left, f"#{order.number}")
        painter.setFont(self.fonts.age)
        painter.drawText(number_rect, right, format_age(age_s))
        fm_meta = QFontMetrics(self.fonts.meta)
        painter.setFont(self.fonts.meta)
        y = number_rect.bottom() + 3
        first, second = header_lines(order)
        for text in (first, second):
            line = QRect(PAD, y, layout.width - 2 * PAD, fm_meta.height())
            painter.drawText(line, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm_meta.elidedText(text, Qt.TextElideMode.ElideRight, line.width()))
            y += fm_meta.height() + 2
        if is_rush(order):
            self._pill(painter, QRect(PAD, y - fm_meta.height() - 2, layout.width - 2 * PAD, fm_meta.height()),
                       "RUSH", theme.RUSH, QColor("#ffffff"), self.fonts.meta)

    def _station_header(self, painter: QPainter, rect: QRect, station: str, done: int, total: int) -> None:
        complete = total > 0 and done == total
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.SERVE_READY if complete else QColor("#262d36"))
        painter.drawRect(rect.adjusted(4, 2, -4, -2))
        painter.setPen(theme.TEXT)
        painter.setFont(self.fonts.station)
        inner = rect.adjusted(PAD, 0, -PAD, 0)
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), station.upper())
        progress = f"✓ {done}/{total}" if complete else f"{done}/{total}"
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), progress)

    def _item(self, painter: QPainter, block: ItemBlock, width: int) -> None:
        item = block.item
        finished = item.status in (ItemStatus.done, ItemStatus.voided)
        if item.changed_after_send:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 179, 0, 45))
            painter.drawRect(block.rect.adjusted(4, 1, -4, -1))
            painter.setBrush(theme.CHANGED)
            painter.drawRect(QRect(4, block.rect.top() + 1, 8, block.rect.height() - 2))
        painter.setPen(QPen(theme.CARD_BORDER, 1))
        painter.drawLine(PAD, block.rect.bottom(), width - PAD, block.rect.bottom())
        for line in block.lines:
            font = QFont(self.fonts.for_style(line.style))
            if line.style is LineStyle.ALLERGEN:
                # Never dimmed, never struck: an allergy matters until the plate leaves.
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(theme.ALLERGEN)
                painter.drawRoundedRect(line.rect, 6, 6)
                painter.setFont(font)
                painter.setPen(theme.ALLERGEN_TEXT)
                painter.drawText(line.rect.adjusted(8, 8, -8, -8), WRAP, line.text)
                continue
            font.setStrikeOut(finished and line.style is LineStyle.ITEM)
            painter.setFont(font)
            colour = theme.DONE_TEXT if finished else theme.HELD if item.held else theme.TEXT
            if line.style is LineStyle.NOTE and not finished:
                colour = theme.CHANGED
            painter.setPen(colour)
            painter.drawText(line.rect, WRAP, line.text)
        if block.tag:
            fm = QFontMetrics(self.fonts.tag)
            w = fm.horizontalAdvance(block.tag) + 16
            rect = QRect(width - PAD - w, block.rect.top() + 10, w, fm.height() + 6)
            fill, ink = {
                "VOID": (theme.ALLERGEN, theme.ALLERGEN_TEXT),
                "ADDED": (theme.CHANGED, theme.CHANGED_TEXT),
                "HOLD": (theme.HELD, theme.TEXT),
            }.get(block.tag, (theme.SERVE_READY, theme.TEXT))
            self._pill(painter, rect, block.tag, fill, ink, self.fonts.tag)

    def _action(self, painter: QPainter, ticket: Ticket, layout: CardLayout, *, armed: bool) -> None:
        expo = ticket.station is None
        if not layout.action_ready:
            fill, ink = theme.SERVE_WAITING, theme.MUTED
            text = ("WAITING: " + ", ".join(s.upper() for s in layout.waiting_on)) if expo else "ON HOLD"
            if expo and not layout.waiting_on:
                text = "WAITING"
        elif armed:
            fill, ink = theme.BUMP_ARMED, theme.BUMP_ARMED_TEXT
            text = "TAP AGAIN TO SERVE" if expo else "TAP AGAIN TO BUMP"
        else:
            fill, ink = (theme.SERVE_READY, theme.TEXT) if expo else (theme.BUMP, theme.TEXT)
            text = "SERVE" if expo else "BUMP"
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(layout.action, 10, 10)
        painter.setPen(ink)
        room = layout.action.width() - 16
        font = self.fonts.action
        if QFontMetrics(font).horizontalAdvance(text) > room:
            font = self.fonts.station
            if QFontMetrics(font).horizontalAdvance(text) > room and layout.waiting_on:
                text = f"WAITING ON {len(layout.waiting_on)} STATIONS"
        painter.setFont(font)
        painter.drawText(layout.action, int(Qt.AlignmentFlag.AlignCenter),
                         QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, room))

    @staticmethod
    def _pill(painter: QPainter, rect: QRect, text: str, fill: QColor, ink: QColor, font: QFont) -> None:
        fm = QFontMetrics(font)
        w = fm.horizontalAdvance(text) + 16
        pill = QRect(rect.right() - w, rect.top(), w, rect.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, 6, 6)
        painter.setPen(ink)
        painter.setFont(font)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), text)
