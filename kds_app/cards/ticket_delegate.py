"""Paints one ticket card from its layout: one painter for every card, no widget per card (`TicketGrid` places
the cards and asks this to draw them)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap

from api_client.menu_rules import menu_key
from api_client.models import ItemStatus
from sync import trace as _trace

from ..media import theme
from ..media.language import translate
from ..viewmodel.card_rules import RUSH, CardMode, is_rush
from ..viewmodel.ticket_model import CardState, Ticket
from .card_layout import (
    ALLERGY_FLAG_PAD,
    META_GAP,
    PAD,
    WRAP,
    CardFonts,
    CardLayout,
    Control,
    ItemBlock,
    LineStyle,
    TextLine,
    chip_text,
    countdown_text,
    header_meta,
    layout_compact,
    tag_label,
)
from .card_layout import layout_card as compute_layout

Thresholds = Callable[[str | None], tuple[int, int]]
MAX_CACHED_CARDS = 48  # two or three pages of cards: paging back and forth is blits
MAX_CACHED_AGES = 256  # a few pages of cards, a few seconds each: a small picture apiece


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


def tag_colours(tag: str, *, changed: bool) -> tuple[QColor, QColor]:
    """Fill and ink of an item's tag. ADDED and VOID are amber while unacknowledged (the change is news);
    an acknowledged VOID is quiet grey, struck like a finished item. Red is never a tag's: it means late, 86
    and offline."""
    if tag in ("ADDED", "VOID") and changed:
        return theme.CHANGED, theme.CHANGED_TEXT
    return {
        "VOID": (theme.SERVE_WAITING, theme.MUTED),
        "HOLD": (theme.HELD, theme.TEXT),
        "86": (theme.EIGHTY_SIX, theme.TEXT),
        "PRINTED": (theme.SERVE_WAITING, theme.TEXT),
    }.get(tag, (theme.SERVE_READY, theme.TEXT))


class TicketDelegate:
    def __init__(self, font_pt: int, thresholds: Thresholds) -> None:
        self.fonts = CardFonts(font_pt)
        self.thresholds = thresholds
        self.compact = False  # expo: one row an order (`set_compact`)
        self.card_width = self.fonts.card_width()
        self._cache: dict[str, tuple[Ticket, frozenset[UUID], CardLayout]] = {}
        # key -> (ticket, its countdown rows, its card's height): the grid's pages
        self._sizes: dict[str, tuple[Ticket, frozenset[UUID], int]] = {}
        self._pixmaps: OrderedDict[str, tuple[Ticket, CardLayout, tuple[object, ...], QPixmap]] = OrderedDict()
        # (text, ink, width, height, pixel ratio) -> the age alone, drawn once: every repaint of a card (a rail that
        # moves on each arrival repaints the page many times a second) blits its age instead of laying text out.
        self._ages: OrderedDict[tuple[str, int, int, int, float], QPixmap] = OrderedDict()
        self._number_h: tuple[CardFonts, int] | None = None
        self.allow_rush = False  # a station card shows RUSH only where the kitchen allows it (expo always does)
        self.eighty_sixed: frozenset[str] = frozenset()  # lower-case names of the items 86'd now
        self.printed_here: frozenset[UUID] = frozenset()  # items this screen's own printer put on paper
        self.show_station = False  # a screen showing several stations names each card's station in its header
        # The items given a countdown row (fire timing): the grid binds its model's, which drops a fired item.
        self.countdown_items: Callable[[Ticket], frozenset[UUID]] = lambda ticket: frozenset(ticket.fires)

    def forget_layouts(self) -> None:
        """Every card is laid out again when next asked for (its size too): a font, a tag rule or the language
        its words are drawn in changed."""
        self._cache.clear()
        self._sizes.clear()
        self._ages.clear()

    def set_show_station(self, shown: bool) -> bool:
        """Name the station in every card's header (True) or not; every card is laid out again. True if it
        changed."""
        if shown == self.show_station:
            return False
        self.show_station = shown
        self.forget_layouts()
        return True

    def set_eighty_sixed(self, names: tuple[str, ...]) -> bool:
        """The 86 list changed: every card is laid out again (tags change line widths). True if it changed."""
        wanted = frozenset(menu_key(n) for n in names)
        if wanted == self.eighty_sixed:
            return False
        self.eighty_sixed = wanted
        self.forget_layouts()
        return True

    def set_printed_here(self, items: frozenset[UUID]) -> bool:
        """The items this screen's own printer printed changed: every card is laid out again (a tag changes a
        line's width). True if it changed."""
        if items == self.printed_here:
            return False
        self.printed_here = items
        self.forget_layouts()
        return True

    def set_font_size(self, font_pt: int) -> None:
        self.fonts = CardFonts(font_pt)
        self.card_width = self._base_width()
        self.forget_layouts()

    def set_compact(self, compact: bool) -> bool:
        """Expo's compact rows (True) or whole cards; every card is laid out again. True if it changed."""
        if compact == self.compact:
            return False
        self.compact = compact
        self.card_width = self._base_width()
        self.forget_layouts()
        return True

    def _base_width(self) -> int:
        return self.fonts.compact_width() if self.compact else self.fonts.card_width()

    def fit_width(self, available: int, gap: int) -> bool:
        """Stretch the cards so whole columns fill `available` pixels; True if the width changed."""
        base = self._base_width()
        columns = max(1, (available + gap) // (base + gap))
        width = max(base, (available + gap) // columns - gap)
        if width == self.card_width:
            return False
        self.card_width = width
        self.forget_layouts()
        return True

    def layout_for(self, ticket: Ticket) -> CardLayout:
        cached = self._cache.get(ticket.key)
        timed = self.countdown_items(ticket)
        if cached is not None and cached[0] is ticket and cached[1] == timed:
            return cached[2]
        mode = CardMode.EXPO if ticket.station is None else CardMode.STATION
        if mode is CardMode.EXPO and self.compact:
            layout = layout_compact(ticket.order, self.fonts, self.card_width)
        else:
            layout = compute_layout(
                ticket.order, self.fonts, mode, self.card_width, rush_control=self.allow_rush,
                eighty_sixed=self.eighty_sixed, station=ticket.station if self.show_station else None,
                timed=timed, printed_here=self.printed_here,
            )
        if len(self._cache) > 2000:  # tickets come and go all service; forget the ones long gone
            self._cache.clear()
        self._cache[ticket.key] = (ticket, timed, layout)
        return layout

    def card_height(self, ticket: Ticket) -> int:
        """The card's height at the current width. Asked of every ticket whenever the pages are worked out again
        (a bump, a new ticket): the common case is one dict lookup."""
        cached = self._sizes.get(ticket.key)
        if cached is not None and cached[0] is ticket and cached[1] == self.countdown_items(ticket):
            return cached[2]
        layout = self.layout_for(ticket)
        if len(self._sizes) > 2000:
            self._sizes.clear()
        self._sizes[ticket.key] = (ticket, self.countdown_items(ticket), layout.height)
        return layout.height

    # ------------------------------------------------------------ painting

    def paint_card(self, painter: QPainter, at: QPoint, card: CardState) -> None:
        """Draw the card with its top left at `at`: the cached picture of the card, then its live age."""
        ticket = card.ticket
        layout = self.layout_for(ticket)
        if _trace.on:
            _trace.painted(ticket.order.id, ticket.station, len(layout.items))
        age_s = card.age_s
        waiting = frozenset(card.waits)
        fire_now = card.fires_in_s is not None  # every item waits on fire timing: held, and FIRE NOW
        fill, ink, age_text = self.age_look(ticket, layout, age_s, waiting=fire_now)
        state = (fill.rgba(), card.highlight, card.armed, card.armed_control, card.selected, waiting, fire_now)
        painter.drawPixmap(at, self._card_pixmap(ticket, layout, state, painter, age_s))
        # The age ticks every second: blitted over the cached card from its own small cached picture.
        rect = self._number_rect(layout)
        opacity = painter.opacity()
        if layout.on_hold:
            painter.setOpacity(0.5)
        painter.drawPixmap(at + rect.topLeft(), self._age_pixmap(age_text, ink, rect, painter))
        painter.setOpacity(opacity)
        if not card.waits:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(at)
        for block in layout.items:
            seconds = card.waits.get(block.item.id)
            if seconds is not None and block.countdown is not None:  # every second, over the cached card
                text = countdown_text(seconds)
                self._pill(painter, self.countdown_rect(block, text), text, theme.HELD, theme.TEXT, self.fonts.tag)
        painter.restore()

    def _age_pixmap(self, text: str, ink: QColor, rect: QRect, painter: QPainter) -> QPixmap:
        """The age `text` right-aligned in a `rect`-sized picture, as `drawText` would put it in `rect`."""
        ratio = _pixel_ratio(painter)
        key = (text, ink.rgba(), rect.width(), rect.height(), ratio)
        cached = self._ages.get(key)
        if cached is not None:
            return cached
        pixmap = _clear_pixmap(rect.width(), rect.height(), ratio)
        age = QPainter(pixmap)
        try:
            age.setRenderHint(QPainter.RenderHint.Antialiasing)
            age.setPen(ink)
            age.setFont(self.fonts.age)
            age.drawText(QRect(0, 0, rect.width(), rect.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
        finally:
            age.end()
        self._ages[key] = pixmap
        while len(self._ages) > MAX_CACHED_AGES:  # ages of the cards shown in the last few seconds
            self._ages.popitem(last=False)
        return pixmap

    def _card_pixmap(
        self, ticket: Ticket, layout: CardLayout, state: tuple[object, ...], painter: QPainter, age_s: float
    ) -> QPixmap:
        """The card without its age, drawn once per change of ticket, layout or state and then reused: moving
        cards after a bump, and the 1 s tick, repaint blits instead of hundreds of text runs."""
        cached = self._pixmaps.get(ticket.key)
        if cached is not None and cached[0] is ticket and cached[1] is layout and cached[2] == state:
            self._pixmaps.move_to_end(ticket.key)
            return cached[3]
        # On the grid's own background (cards never overlap, and nothing but the background is under one): its
        # rounded corners look the same, and moving a page of cards after a bump copies pixels instead of blending.
        pixmap = _clear_pixmap(layout.width, layout.height, _pixel_ratio(painter), theme.BACKGROUND)
        card = QPainter(pixmap)
        try:
            card.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._draw_card(card, ticket, layout, state, age_s)
        finally:
            card.end()
        self._pixmaps[ticket.key] = (ticket, layout, state, pixmap)
        self._pixmaps.move_to_end(ticket.key)
        while len(self._pixmaps) > MAX_CACHED_CARDS:  # a screenful or two: a 400x600 card is about 1 MB
            self._pixmaps.popitem(last=False)
        return pixmap

    def _draw_card(
        self, painter: QPainter, ticket: Ticket, layout: CardLayout, state: tuple[object, ...], age_s: float
    ) -> None:
        _fill, highlight, armed, armed_control, selected, *timing = state
        waiting: frozenset[object] = timing[0] if timing else frozenset()
        fire_now = bool(timing[1]) if timing else False
        self._card(painter, ticket, layout, highlight=bool(highlight))
        if layout.compact:
            self._compact_row(painter, ticket, layout, age_s)
            self._action(painter, ticket, layout, armed=bool(armed))
            if selected:
                self._selection(painter, layout)
            return
        if layout.on_hold:
            painter.setOpacity(0.5)  # greyed: nothing here is work until the course is fired
        if layout.rush_band is not None:
            self._rush_band(painter, layout)
        self._header(painter, ticket, layout, age_s)
        if layout.allergy is not None:
            self._allergy_flag(painter, layout.allergy)
        for control in layout.controls:
            self._control(painter, control, armed=armed_control == control.kind)
        if layout.order_note is not None:
            painter.setFont(self.fonts.note)
            painter.setPen(theme.CHANGED)
            painter.drawText(layout.order_note.rect, WRAP, layout.order_note.text)
        for header in layout.stations:
            self._station_header(painter, header.rect, header.station, header.done, header.total)
        for block in layout.items:
            self._item(painter, block, layout.width, waiting=block.item.id in waiting)
        painter.setOpacity(1.0)
        self._action(painter, ticket, layout, armed=bool(armed), fire_now=fire_now)
        if selected:
            self._selection(painter, layout)

    def age_look(
        self, ticket: Ticket, layout: CardLayout, age_s: float, *, waiting: bool = False
    ) -> tuple[QColor, QColor, str]:
        """The header's fill, its ink and the age shown. A held ticket's age does not count: a neutral header
        that says HELD, never yellow or red; its clock starts when the course is fired (`TicketModel`). So is a
        ticket whose every item `waiting` on fire timing: its clock starts when the first fires."""
        if layout.on_hold or waiting:
            return theme.HELD, theme.TEXT, translate("Card", "HELD")
        fill, ink = age_colours(age_s, self.thresholds(ticket.station))
        return fill, ink, format_age(age_s)

    def _number_rect(self, layout: CardLayout) -> QRect:
        if layout.compact:  # the number on the left of its box, the age (drawn live) on the right
            return layout.header.adjusted(PAD, 0, -PAD, 0)
        head = layout.header.adjusted(4, 4, -4, 0)
        if self._number_h is None or self._number_h[0] is not self.fonts:
            self._number_h = (self.fonts, QFontMetrics(self.fonts.number).height())
        return QRect(PAD, head.top() + 4, layout.width - 2 * PAD, self._number_h[1])

    @staticmethod
    def _selection(painter: QPainter, layout: CardLayout) -> None:
        # The bump bar's cursor: a thick white frame drawn over the card's own border (new, rush), so it is
        # seen from across the line and never mistaken for either.
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.SELECTED, 8))
        painter.drawRoundedRect(QRect(0, 0, layout.width, layout.height).adjusted(4, 4, -4, -4), 10, 10)

    def _card(self, painter: QPainter, ticket: Ticket, layout: CardLayout, *, highlight: bool) -> None:
        rect = QRect(0, 0, layout.width, layout.height)
        painter.setBrush(theme.CARD)
        border = theme.NEW_HIGHLIGHT if highlight else theme.RUSH if is_rush(ticket.order) else theme.CARD_BORDER
        painter.setPen(QPen(border, 6 if highlight or is_rush(ticket.order) else 2))
        painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 10, 10)

    def _header(self, painter: QPainter, ticket: Ticket, layout: CardLayout, age_s: float) -> None:
        order = ticket.order
        fill, ink, _text = self.age_look(ticket, layout, age_s)
        head = layout.header.adjusted(4, 4, -4, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(head, 8, 8)
        painter.setPen(ink)
        number_rect = self._number_rect(layout)
        painter.setFont(self.fonts.number)
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        number, station = self.title_parts(layout)
        painter.drawText(number_rect, left, number)  # the age goes on live, in `paint`
        if station:
            painter.setFont(self.fonts.meta)
            after = number_rect.adjusted(QFontMetrics(self.fonts.number).horizontalAdvance(number), 0, 0, 0)
            painter.drawText(after, left, station)
        fm_meta = QFontMetrics(self.fonts.meta)
        painter.setFont(self.fonts.meta)
        y = number_rect.bottom() + 1 + META_GAP
        for text in header_meta(order):
            line = QRect(PAD, y, layout.width - 2 * PAD, fm_meta.height())
            painter.drawText(line, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm_meta.elidedText(text, Qt.TextElideMode.ElideRight, line.width()))
            y += fm_meta.height() + META_GAP

    def title_parts(self, layout: CardLayout) -> tuple[str, str]:
        """The header's title as drawn: the number in the number's type, then (a screen of several stations)
        " · GRILL" in the meta lines' type, cut short ("…") where it would run into the age; the number is whole."""
        number, _sep, station = layout.title.partition(" · ")
        if not station:
            return number, ""
        number_rect = self._number_rect(layout)
        age_w = QFontMetrics(self.fonts.age).horizontalAdvance("00:00")
        room = number_rect.width() - QFontMetrics(self.fonts.number).horizontalAdvance(number) - age_w - PAD
        return number, QFontMetrics(self.fonts.meta).elidedText(f" · {station}", Qt.TextElideMode.ElideRight,
                                                                 max(room, 0))

    def title_text(self, layout: CardLayout) -> str:
        return "".join(self.title_parts(layout))

    def _compact_row(self, painter: QPainter, ticket: Ticket, layout: CardLayout, age_s: float) -> None:
        """Expo's compact row: the number and age on the age's colour, then a chip a station (green when done)."""
        fill, ink, _text = self.age_look(ticket, layout, age_s)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(layout.header, 8, 8)
        painter.setPen(ink)
        painter.setFont(self.fonts.number)
        painter.drawText(self._number_rect(layout), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         layout.title)
        for chip in layout.stations:
            complete = chip.total > 0 and chip.done == chip.total
            self._pill(painter, chip.rect, chip_text(chip), theme.SERVE_READY if complete else QColor("#262d36"),
                       theme.TEXT, self.fonts.station)
        if layout.chips_hidden:
            last = layout.stations[-1].rect if layout.stations else layout.header
            fm = QFontMetrics(self.fonts.station)
            more = QRect(last.right() + 1 + PAD // 2, last.top(), fm.horizontalAdvance("+00") + PAD, last.height())
            self._pill(painter, more, f"+{layout.chips_hidden}", QColor("#262d36"), theme.MUTED, self.fonts.station)

    def _allergy_flag(self, painter: QPainter, flag: TextLine) -> None:
        # Under the number and age, in the allergens' own colour and the allergen lines' type: the card says
        # ALLERGY at the top, whichever of its items has it and wherever that item is.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.ALLERGEN)
        painter.drawRoundedRect(flag.rect, 8, 8)
        painter.setPen(theme.ALLERGEN_TEXT)
        painter.setFont(self.fonts.allergen)
        pad = ALLERGY_FLAG_PAD
        painter.drawText(flag.rect.adjusted(pad, pad, -pad, -pad),
                         WRAP | int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), flag.text)

    def _rush_band(self, painter: QPainter, layout: CardLayout) -> None:
        # Across the top in the number's size: a rushed ticket is told from two metres, in words and colour.
        assert layout.rush_band is not None
        band = layout.rush_band.adjusted(4, 4, -4, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.RUSH)
        painter.drawRoundedRect(band, 8, 8)
        painter.setPen(QColor("#111111"))
        painter.setFont(self.fonts.number)
        painter.drawText(band, int(Qt.AlignmentFlag.AlignCenter), translate("Card", "▲ RUSH ▲"))

    def _control(self, painter: QPainter, control: Control, *, armed: bool) -> None:
        if armed:
            fill, ink, text = theme.BUMP_ARMED, theme.BUMP_ARMED_TEXT, translate("Card", "TAP AGAIN")
        elif control.kind == RUSH:
            # Quiet until used: an orange button on every expo card would read as "everything is rushed".
            ink = theme.RUSH if control.label == translate("Card", "RUSH") else theme.TEXT
            fill, text = theme.SERVE_WAITING, control.label
        else:
            fill, ink, text = theme.HELD, theme.TEXT, control.label
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(control.rect, 10, 10)
        painter.setPen(ink)
        font = self.fonts.station
        room = control.rect.width() - 12
        if control.course is not None and not armed and QFontMetrics(font).horizontalAdvance(text) > room:
            # a narrow card: short, never cut to "FIRE COUR…"
            text = translate("Card", "FIRE C{n}").format(n=control.course)
        painter.setFont(font)
        painter.drawText(control.rect, int(Qt.AlignmentFlag.AlignCenter),
                         QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, room))

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

    def _item(self, painter: QPainter, block: ItemBlock, width: int, *, waiting: bool = False) -> None:
        """`waiting`: the item waits on fire timing: dimmed like a held one, its countdown drawn live under its
        name (`paint_card`)."""
        item = block.item
        finished = item.status in (ItemStatus.done, ItemStatus.voided)
        if block.tag == "86":
            # Run out: a red bar down the row as well as the tag, seen from across the line.
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(198, 40, 40, 50))
            painter.drawRect(block.rect.adjusted(4, 1, -4, -1))
            painter.setBrush(theme.EIGHTY_SIX)
            painter.drawRect(QRect(4, block.rect.top() + 1, 8, block.rect.height() - 2))
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
            colour = theme.DONE_TEXT if finished else theme.HELD if item.held or waiting else theme.TEXT
            if line.style is LineStyle.NOTE and not finished:
                colour = theme.CHANGED
            if line.style is LineStyle.MOVED and not finished:
                colour = theme.MOVED
            painter.setPen(colour)
            painter.drawText(line.rect, WRAP, line.text)
        if block.tag:
            fill, ink = tag_colours(block.tag, changed=item.changed_after_send)
            self._pill(painter, self.tag_rect(block, width), tag_label(block.tag), fill, ink, self.fonts.tag)

    def tag_rect(self, block: ItemBlock, width: int) -> QRect:
        """Where an item's tag pill (VOID, ADDED, HOLD, 86, ✓) is drawn on its card: top right of the row."""
        fm = QFontMetrics(self.fonts.tag)
        w = fm.horizontalAdvance(tag_label(block.tag) if block.tag else "") + 16
        return QRect(width - PAD - w, block.rect.top() + 10, w, fm.height() + 6)

    def countdown_rect(self, block: ItemBlock, text: str) -> QRect:
        """Where a waiting item's countdown pill ("FIRES IN 4:10") is drawn: on its own row under the dish."""
        assert block.countdown is not None
        w = min(QFontMetrics(self.fonts.tag).horizontalAdvance(text) + 16, block.countdown.width())
        return QRect(block.countdown.left(), block.countdown.top(), w, block.countdown.height())

    def _action(
        self, painter: QPainter, ticket: Ticket, layout: CardLayout, *, armed: bool, fire_now: bool = False
    ) -> None:
        """`fire_now`: every item of the ticket waits on fire timing; the zone fires them now (two taps)."""
        expo = ticket.station is None
        if layout.acknowledge:
            self._acknowledge_zone(painter, layout, armed=armed)
            return
        if fire_now:
            fill, ink = (theme.BUMP_ARMED, theme.BUMP_ARMED_TEXT) if armed else (theme.HELD, theme.TEXT)
            text = translate("Card", "TAP AGAIN TO FIRE") if armed else translate("Card", "FIRE NOW")
        elif not layout.action_ready:
            fill, ink = theme.SERVE_WAITING, theme.MUTED
            stations = ", ".join(s.upper() for s in layout.waiting_on)
            if expo:
                text = translate("Card", "WAITING: {stations}").format(stations=stations)
            else:
                text = translate("Card", "ON HOLD")
            if not expo and layout.on_hold and layout.held_course is not None:
                text = translate("Card", "ON HOLD · COURSE {n}").format(n=layout.held_course)
            if expo and not layout.waiting_on:
                text = translate("Card", "WAITING")
        elif armed:
            fill, ink = theme.BUMP_ARMED, theme.BUMP_ARMED_TEXT
            text = translate("Card", "TAP AGAIN TO SERVE") if expo else translate("Card", "TAP AGAIN TO BUMP")
        else:
            fill, ink = (theme.SERVE_READY, theme.TEXT) if expo else (theme.BUMP, theme.TEXT)
            text = translate("Card", "SERVE") if expo else translate("Card", "BUMP")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(layout.action, 10, 10)
        painter.setPen(ink)
        room = layout.action.width() - 16
        font = self.fonts.action
        if QFontMetrics(font).horizontalAdvance(text) > room - 8:  # a few px spare: just fitting gets elided
            font = self.fonts.station
            if QFontMetrics(font).horizontalAdvance(text) > room and layout.waiting_on:
                text = translate("Card", "WAITING ON {n} STATIONS").format(n=len(layout.waiting_on))
        painter.setFont(font)
        painter.drawText(layout.action, int(Qt.AlignmentFlag.AlignCenter),
                         QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, room))

    def _acknowledge_zone(self, painter: QPainter, layout: CardLayout, *, armed: bool) -> None:
        """Only changes keep this ticket on the rail: the zone acknowledges them, outlined in the changes' amber
        (solid amber once armed, as BUMP does)."""
        zone = layout.action.adjusted(2, 2, -2, -2)
        if armed:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.BUMP_ARMED)
            ink, text = theme.BUMP_ARMED_TEXT, translate("Card", "TAP AGAIN")
        else:
            painter.setPen(QPen(theme.CHANGED, 4))
            painter.setBrush(theme.SERVE_WAITING)
            ink, text = theme.CHANGED, translate("Card", "ACKNOWLEDGE")
        painter.drawRoundedRect(zone, 10, 10)
        font = self.fonts.action
        if QFontMetrics(font).horizontalAdvance(text) > zone.width() - 16:
            font = self.fonts.station
        painter.setPen(ink)
        painter.setFont(font)
        painter.drawText(zone, int(Qt.AlignmentFlag.AlignCenter),
                         QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, zone.width() - 16))

    @staticmethod
    def _pill(painter: QPainter, pill: QRect, text: str, fill: QColor, ink: QColor, font: QFont) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, 6, 6)
        painter.setPen(ink)
        painter.setFont(font)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), text)


def _pixel_ratio(painter: QPainter) -> float:
    return painter.device().devicePixelRatioF() if painter.device() is not None else 1.0


def _clear_pixmap(width: int, height: int, ratio: float, fill: QColor | None = None) -> QPixmap:
    """A picture of `width` x `height` logical pixels at the screen's pixel ratio, to draw into once: transparent,
    or filled with `fill` (opaque: blitted as a plain copy, where a transparent one is blended pixel by pixel)."""
    pixmap = QPixmap(int(width * ratio), int(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent if fill is None else fill)
    return pixmap
