"""Where everything on a ticket card goes, computed once per ticket and width.

The delegate paints from this layout and the grid hit-tests taps against it, so what a cook touches is
exactly what was drawn. Measuring uses the same fonts and wrap flags as painting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from uuid import UUID

from PySide6.QtCore import QT_TRANSLATE_NOOP, QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics

from api_client.fire_timing import format_countdown
from api_client.menu_rules import menu_key
from api_client.models import ItemStatus, OrderItemPublic, OrderType, OrderWithItems
from api_client.order_machine import is_open, next_held_course
from sync import station_on_hold

from ..media.language import translate
from ..viewmodel.card_rules import FIRE, RUSH, CardMode, action_state, has_changes, is_rush

WRAP = int(Qt.TextFlag.TextWordWrap)
TIMES = "\u00d7"  # the multiplication sign: "2 times Burger" reads at a glance where "2x" does not
PAD = 12
# 15 mm on a 22" 1080p panel (~100 dpi) is ~60 px: buttons (BUMP, RUSH, FIRE) are never shorter.
MIN_TOUCH_PX = 60
# An item row (a tap strikes it) is at least 12 mm (48 px, above the usual 9-10 mm touch minimum): a plain
# "1x Burger" line is not padded to a button's height, so a 15" screen holds 6 typical tickets (issue 16).
MIN_ITEM_PX = 48
META_GAP = 1  # between the number's line and the header's meta lines, and between those

TYPE_LABELS = {
    OrderType.dine_in: QT_TRANSLATE_NOOP("Card", "DINE-IN"),
    OrderType.takeout: QT_TRANSLATE_NOOP("Card", "TAKEOUT"),
    OrderType.delivery: QT_TRANSLATE_NOOP("Card", "DELIVERY"),
    OrderType.pickup: QT_TRANSLATE_NOOP("Card", "PICKUP"),
}
SOURCE_LABELS = {  # where the order came from; "POS" is left off a card without a customer's name
    "pos": QT_TRANSLATE_NOOP("Card", "POS"),
    "online": QT_TRANSLATE_NOOP("Card", "ONLINE"),
    "delivery": QT_TRANSLATE_NOOP("Card", "DELIVERY"),
    "kiosk": QT_TRANSLATE_NOOP("Card", "KIOSK"),
}
# An item's state in words (ItemBlock.tag is the key, the card draws `tag_label`): never in colour alone.
TAG_LABELS = {
    "VOID": QT_TRANSLATE_NOOP("Card", "VOID"),
    "ADDED": QT_TRANSLATE_NOOP("Card", "ADDED"),
    "HOLD": QT_TRANSLATE_NOOP("Card", "HOLD"),
    "86": QT_TRANSLATE_NOOP("Card", "86"),
    "PRINTED": QT_TRANSLATE_NOOP("Card", "PRINTED"),
}


def tag_label(tag: str) -> str:
    """What an item's tag says on the card (✓ is the same in every language)."""
    return translate("Card", TAG_LABELS[tag]) if tag in TAG_LABELS else tag


def source_label(source: str) -> str:
    return translate("Card", SOURCE_LABELS[source]) if source in SOURCE_LABELS else source.upper()


def allergy_text(allergens: str) -> str:
    """The allergy line: the word in the screen's language, the allergens as the order names them."""
    return translate("Card", "⚠ ALLERGY: {allergens}").format(allergens=allergens)


class LineStyle(Enum):
    ITEM = "item"
    MODIFIER = "modifier"
    NOTE = "note"
    ALLERGEN = "allergen"
    MOVED = "moved"  # "← GRILL": the item came here by a transfer (issue 19 item 2)


@dataclass(frozen=True)
class TextLine:
    rect: QRect
    text: str
    style: LineStyle


@dataclass(frozen=True)
class ItemBlock:
    item: OrderItemPublic
    rect: QRect  # the touch target: the whole row
    lines: tuple[TextLine, ...]
    tag: str | None  # VOID, ADDED, HOLD, ✓: the state in words, not only in colour
    countdown: QRect | None = None  # fire timing: the row under the title where "FIRES IN 4:10" is drawn live


@dataclass(frozen=True)
class StationHeader:
    rect: QRect
    station: str
    done: int
    total: int




@dataclass(frozen=True)
class Control:
    """A button in the card's control row (under the header): two taps like bump, so a brush never fires it."""

    kind: str  # RUSH or FIRE
    rect: QRect
    label: str  # what it does now: RUSH, UN-RUSH, FIRE COURSE 2
    course: int | None = None  # FIRE: the course it fires


@dataclass(frozen=True)
class Hit:
    """What a tap landed on: the action zone, an item, a control (RUSH, FIRE), or nothing that acts."""

    action: bool = False
    item_id: UUID | None = None
    control: str | None = None


@dataclass(frozen=True)
class CardLayout:
    width: int
    height: int
    header: QRect
    order_note: TextLine | None
    items: tuple[ItemBlock, ...]
    stations: tuple[StationHeader, ...]
    action: QRect
    action_ready: bool  # station: something to bump; expo: ready to serve
    waiting_on: tuple[str, ...] = field(default=())
    rush_band: QRect | None = None  # the RUSH band across the top of a rushed ticket
    controls: tuple[Control, ...] = field(default=())
    on_hold: bool = False  # station: only held items left, drawn greyed; not work until fired
    held_course: int | None = None  # the next course waiting to be fired, if any
    acknowledge: bool = False  # station: nothing to bump, only changes to acknowledge; the action zone does that
    allergy: TextLine | None = None  # the header's ⚠ ALLERGY flag: an allergy anywhere on the card, seen at the top
    compact: bool = False  # expo's one-line row: number and age in `header`, `stations` as chips, SERVE at the end
    chips_hidden: int = 0  # compact: stations whose chips did not fit (the last chip says "+N")
    title: str = ""  # the header's first line, left of the age: "#101", or "#101 · GRILL" (`card_title`)

    def hit(self, pos: QPoint) -> Hit | None:
        if self.action.contains(pos):
            return Hit(action=True)
        for control in self.controls:
            if control.rect.contains(pos):
                return Hit(control=control.kind)
        for block in self.items:
            if block.rect.contains(pos):
                return Hit(item_id=block.item.id)
        return None


class CardFonts:
    """The card's fonts, derived from the configured base size (points)."""

    def __init__(self, base_pt: int) -> None:
        self.base_pt = base_pt
        # Read from two metres (issue 16): at the default 18 pt an item line's capitals are 25 px tall (6 mm on a
        # 21" 1080p panel), a modifier's 20 px (5 mm), the header's meta 18 px; tests/kds_app/cards/
        # test_card_type.py measures them from these fonts' metrics and keeps the density goals with them.
        self.number = self._font(round(base_pt * 1.5), bold=True)
        self.age = self._font(round(base_pt * 1.4), bold=True)
        self.meta = self._font(base_pt, bold=True)
        self.item = self._font(round(base_pt * 1.4), bold=True)
        self.modifier = self._font(round(base_pt * 1.12))
        self.note = self._font(round(base_pt * 1.12), italic=True)
        self.allergen = self._font(round(base_pt * 1.12), bold=True)
        self.tag = self._font(round(base_pt * 0.8), bold=True)
        # "← GRILL" under a moved dish: read from two metres like a modifier (found from outside: in the tag's
        # 14 px it could not be read across the pass).
        self.moved = self._font(round(base_pt * 1.12), bold=True)
        self.station = self._font(round(base_pt * 0.85), bold=True)
        self.action = self._font(round(base_pt * 1.1), bold=True)

    @staticmethod
    def _font(pt: int, *, bold: bool = False, italic: bool = False) -> QFont:
        font = QFont()
        font.setPointSize(max(pt, 8))
        font.setBold(bold)
        font.setItalic(italic)
        return font

    def for_style(self, style: LineStyle) -> QFont:
        return {
            LineStyle.ITEM: self.item,
            LineStyle.MODIFIER: self.modifier,
            LineStyle.NOTE: self.note,
            LineStyle.ALLERGEN: self.allergen,
            LineStyle.MOVED: self.moved,
        }[style]

    def compact_width(self) -> int:
        """Expo's compact rows: two columns of them at 1366 and at 1920 pixels."""
        return max(560, self.base_pt * 36)

    def card_width(self) -> int:
        # Wide enough that "2 times Cheeseburger" in the item type stays on one line (issue 16: 2-metre type).
        return max(300, self.base_pt * 20)


def header_lines(order: OrderWithItems) -> tuple[str, str]:
    """The two small lines under the number: what kind of order, and who/where it came from."""
    first = [translate("Card", TYPE_LABELS[order.type])]
    if order.table_label:
        table = order.table_label
        first.append(translate("Card", "T{table}").format(table=table) if table[:1].isdigit() else table)
    if order.guests == 1:
        first.append(translate("Card", "1 guest"))
    elif order.guests:
        first.append(translate("Card", "{n} guests").format(n=order.guests))
    second = [part for part in (order.customer_name, order.server_name, source_label(order.source.value)) if part]
    return " · ".join(first), " · ".join(second)


def item_tag(
    item: OrderItemPublic, eighty_sixed: frozenset[str] = frozenset(), printed_here: frozenset[UUID] = frozenset()
) -> str | None:
    """`eighty_sixed`: lower-case names of the items 86'd now; an open item of that name is tagged 86.
    `printed_here`: the items this screen's own printer put on paper while it reached no server."""
    if item.changed_after_send:
        return "VOID" if item.status is ItemStatus.voided else "ADDED"
    if item.status is ItemStatus.voided:
        return "VOID"
    if is_open(item) and menu_key(item.name) in eighty_sixed:
        return "86"
    if item.held:
        return "HOLD"
    if item.status is ItemStatus.done:
        return "✓"
    if item.printed_at is not None or item.id in printed_here:
        # The backup printer gave it to the cook on paper while no screen of the station was there (issue 19,
        # item 3), or this screen's own printer did while it reached no server: the cook sees which items are
        # already on the pass as slips.
        return "PRINTED"
    return None


def _text_height(fm: QFontMetrics, width: int, text: str) -> int:
    return fm.boundingRect(QRect(0, 0, width, 100_000), WRAP, text).height()


def moved_text(station: str) -> str:
    """The mark of an item a transfer brought here: "← GRILL", the station it was sent to (issue 19 item 2)."""
    return translate("Card", "← {station}").format(station=station.upper())


def countdown_text(seconds: float) -> str:
    """A waiting item's pill (fire timing, issue 19 item 1): "FIRES IN 4:10"."""
    return translate("Card", "FIRES IN {time}").format(time=format_countdown(seconds))


def _item_block(
    item: OrderItemPublic,
    fonts: CardFonts,
    top: int,
    width: int,
    eighty_sixed: frozenset[str] = frozenset(),
    timed: frozenset[UUID] = frozenset(),
    printed_here: frozenset[UUID] = frozenset(),
) -> ItemBlock:
    inner = width - 2 * PAD
    tag = item_tag(item, eighty_sixed, printed_here)
    tag_width = QFontMetrics(fonts.tag).horizontalAdvance(tag_label(tag)) + 24 if tag else 0
    lines: list[TextLine] = []
    y = top + 4  # tight: the line's own leading is air enough, and 3 px a line is a card more a page
    title = f"{item.quantity}{TIMES} {item.name}"
    if tag and max(QFontMetrics(fonts.item).horizontalAdvance(word) for word in title.split()) > inner - tag_width:
        # A word of the dish the tag would cut ("1x Cheeseburg" beside PRINTED on a 360 px card): the tag gets a
        # row of its own above the dish, which keeps the card's whole width.
        y += QFontMetrics(fonts.tag).height() + 12
        tag_width = 0
    entries: list[tuple[str, LineStyle, int, int]] = [(title, LineStyle.ITEM, 0, tag_width)]
    if item.moved_from:
        entries.append((moved_text(item.moved_from), LineStyle.MOVED, 24, 0))
    entries += [(f"• {m}", LineStyle.MODIFIER, 24, 0) for m in item.modifiers]
    if item.notes:
        entries.append((f"“{item.notes}”", LineStyle.NOTE, 24, 0))
    if item.allergens:
        entries.append((allergy_text(", ".join(a.upper() for a in item.allergens)), LineStyle.ALLERGEN, 0, 0))
    countdown: QRect | None = None
    for n, (text, style, indent, reserve) in enumerate(entries):
        fm = QFontMetrics(fonts.for_style(style))
        pad = 8 if style is LineStyle.ALLERGEN else 0
        w = inner - indent - reserve - 2 * pad
        h = _text_height(fm, w, text) + 2 * pad
        lines.append(TextLine(QRect(PAD + indent, y, inner - indent - reserve, h), text, style))
        y += h + (6 if style is LineStyle.ALLERGEN else 2)
        if n == 0 and item.id in timed and item.status is ItemStatus.new:
            # Its own row under the title, so the dish's name keeps the card's width; drawn only while it waits.
            countdown = QRect(PAD + 24, y, inner - 24, QFontMetrics(fonts.tag).height() + 6)
            y = countdown.bottom() + 1 + 4
    bottom = max(y + 2, top + MIN_ITEM_PX)
    return ItemBlock(item, QRect(0, top, width, bottom - top), tuple(lines), tag, countdown)


def card_title(order: OrderWithItems, station: str | None = None) -> str:
    """The header's number, and the station's name where one screen shows several stations: there one order is a
    card a station, each with the same number and age, and only this tells a cook which card is whose."""
    return f"#{order.number}" if station is None else f"#{order.number} · {station.upper()}"


def header_meta(order: OrderWithItems) -> tuple[str, ...]:
    """The small lines the card shows under the number: two when the order has a customer's name (the second is
    the name, server and source), else one (type, table, guests, server; the source unless it is the POS)."""
    first, second = header_lines(order)
    if order.customer_name:
        return first, second
    source = source_label(order.source.value) if order.source.value != "pos" else None
    rest = [part for part in (order.server_name, source) if part]
    return (" · ".join([first, *rest]),)


def _header_height(fonts: CardFonts, lines: int = 2) -> int:
    # The number's line starts 8 px down (TicketDelegate._number_rect), the meta lines right under it (the
    # number has no descenders, so its line's descent is the gap), then 3 px of the header's fill.
    return (
        8
        + QFontMetrics(fonts.number).height()
        + META_GAP
        + lines * (QFontMetrics(fonts.meta).height() + META_GAP)
        + 3
    )


def rush_band_height(fonts: CardFonts) -> int:
    return QFontMetrics(fonts.number).height() + 10


def _controls(order: OrderWithItems, mode: CardMode, top: int, width: int, *, rush: bool) -> tuple[Control, ...]:
    """RUSH on the left half, FIRE on the right half: always the same place, so a hand learns where they are."""
    half = (width - PAD - PAD // 2) // 2
    left = QRect(PAD // 2, top, half, MIN_TOUCH_PX)
    right = QRect(left.right() + 1 + PAD // 2, top, half, MIN_TOUCH_PX)
    controls: list[Control] = []
    if rush:
        label = translate("Card", "UN-RUSH") if is_rush(order) else translate("Card", "RUSH")
        controls.append(Control(RUSH, left, label))
    course = next_held_course(order)
    if mode is CardMode.EXPO and course is not None:
        controls.append(Control(FIRE, right, translate("Card", "FIRE COURSE {n}").format(n=course), course))
    return tuple(controls)


def layout_card(
    order: OrderWithItems,
    fonts: CardFonts,
    mode: CardMode,
    width: int | None = None,
    *,
    rush_control: bool = False,
    eighty_sixed: frozenset[str] = frozenset(),
    station: str | None = None,
    timed: frozenset[UUID] = frozenset(),
    printed_here: frozenset[UUID] = frozenset(),
) -> CardLayout:
    """`rush_control`: show the RUSH button (expo always does; a station only if the kitchen allows it).
    `eighty_sixed`: lower-case names of the items 86'd now, tagged on the card. `station`: named in the header
    (a screen showing several stations), else None. `timed`: items on fire timing (room for their countdown).
    `printed_here`: items this screen's own printer printed (tagged PRINTED)."""
    width = width or fonts.card_width()
    band = QRect(0, 0, width, rush_band_height(fonts)) if is_rush(order) else None
    top = band.bottom() + 1 if band is not None else 0
    header = QRect(0, top, width, _header_height(fonts, len(header_meta(order))))
    y = header.bottom() + 1
    allergy = _allergy_flag(order, fonts, y + 4, width)
    if allergy is not None:
        y = allergy.rect.bottom() + 1
    controls = _controls(order, mode, y + 6, width, rush=rush_control or mode is CardMode.EXPO)
    if controls:
        y = controls[0].rect.bottom() + 1
    note: TextLine | None = None
    if order.notes:
        fm = QFontMetrics(fonts.note)
        text = translate("Card", "Note: {note}").format(note=order.notes)
        h = _text_height(fm, width - 2 * PAD, text)
        note = TextLine(QRect(PAD, y + 6, width - 2 * PAD, h), text, LineStyle.NOTE)
        y += h + 12
    blocks: list[ItemBlock] = []
    stations: list[StationHeader] = []
    if mode is CardMode.EXPO:
        station_h = QFontMetrics(fonts.station).height() + 12
        for section in sorted({i.station for i in order.order_items}):  # not `station`: the header's, below
            items = [i for i in order.order_items if i.station == section]
            active = [i for i in items if i.status is not ItemStatus.voided]
            done = sum(1 for i in active if i.status is ItemStatus.done)
            stations.append(StationHeader(QRect(0, y, width, station_h), section, done, len(active)))
            y += station_h
            for item in items:
                block = _item_block(item, fonts, y, width, eighty_sixed, timed, printed_here)
                blocks.append(block)
                y = block.rect.bottom() + 1
    else:
        for item in order.order_items:
            block = _item_block(item, fonts, y, width, eighty_sixed, timed, printed_here)
            blocks.append(block)
            y = block.rect.bottom() + 1
    action_h = max(MIN_TOUCH_PX, round(QFontMetrics(fonts.action).height() * 1.8))
    action = QRect(PAD // 2, y + 4, width - PAD, action_h)
    ready, waiting = action_state(order, mode)
    return CardLayout(
        width=width,
        height=action.bottom() + 1 + 4,
        header=header,
        order_note=note,
        items=tuple(blocks),
        stations=tuple(stations),
        action=action,
        action_ready=ready,
        waiting_on=waiting,
        rush_band=band,
        controls=controls,
        on_hold=mode is CardMode.STATION and station_on_hold(list(order.order_items)),
        held_course=next_held_course(order),
        acknowledge=mode is CardMode.STATION and not ready and has_changes(order),
        allergy=allergy,
        title=card_title(order, station),
    )


def card_allergens(order: OrderWithItems) -> tuple[str, ...]:
    """Every allergen of the items on the card, in capitals, each once, in the order the items list them."""
    return tuple(dict.fromkeys(a.strip().upper() for i in order.order_items for a in i.allergens if a.strip()))


ALLERGY_FLAG_PAD = 6  # around the flag's text, inside its band


def _allergy_flag(order: OrderWithItems, fonts: CardFonts, top: int, width: int) -> TextLine | None:
    """The header's allergy flag, a band the full width of the card under the number and age: an allergy on the
    last item is seen even when the card runs past the bottom of the screen. None when no item has one."""
    allergens = card_allergens(order)
    if not allergens:
        return None
    text = allergy_text(", ".join(allergens))
    inner = width - PAD - 2 * ALLERGY_FLAG_PAD
    h = _text_height(QFontMetrics(fonts.allergen), inner, text) + 2 * ALLERGY_FLAG_PAD
    return TextLine(QRect(PAD // 2, top, width - PAD, h), text, LineStyle.ALLERGEN)


def chip_text(header: StationHeader) -> str:
    """A station's chip on expo's compact row: "GRILL ✓" when done, else "FRY 2/3"."""
    done = header.total > 0 and header.done == header.total
    return f"{header.station.upper()} ✓" if done else f"{header.station.upper()} {header.done}/{header.total}"


def layout_compact(order: OrderWithItems, fonts: CardFonts, width: int) -> CardLayout:
    """Expo's compact mode: one row an order, "#1042 04:12 | GRILL ✓ | FRY 2/3 | SERVE" (issue 16), as tall as
    a finger's button, so a 1080p screen lists 20 orders and more. No item lines (nothing to strike here: the full
    mode has them); the whole row's right end is the SERVE zone, two taps as ever."""
    height = MIN_TOUCH_PX + 8
    serve_w = max(MIN_TOUCH_PX * 2, width // 5)
    action = QRect(width - serve_w - 4, 4, serve_w, MIN_TOUCH_PX)
    number_w = QFontMetrics(fonts.number).horizontalAdvance("#0000") + QFontMetrics(fonts.age).horizontalAdvance(
        "00:00") + 3 * PAD
    header = QRect(4, 4, number_w, MIN_TOUCH_PX)
    chip_fm = QFontMetrics(fonts.station)  # the full card's station headers' type: three chips fit at 1366
    chips: list[StationHeader] = []
    x, right = header.right() + 1 + PAD // 2, action.left() - PAD // 2
    stations = sorted({i.station for i in order.order_items})
    more_w = chip_fm.horizontalAdvance("+00") + PAD
    wanted: list[tuple[StationHeader, int]] = []
    for station in stations:
        active = [i for i in order.order_items if i.station == station and i.status is not ItemStatus.voided]
        done = sum(1 for i in active if i.status is ItemStatus.done)
        chip = StationHeader(QRect(), station, done, len(active))
        wanted.append((chip, chip_fm.horizontalAdvance(chip_text(chip)) + PAD))
    # Every chip if they all fit; else as many as fit with room left for the "+N" chip.
    fits_all = x + sum(w + PAD // 2 for _c, w in wanted) - PAD // 2 <= right
    for chip, w in wanted:
        if not fits_all and x + w > right - more_w - PAD // 2:
            break
        chips.append(StationHeader(QRect(x, 4, w, MIN_TOUCH_PX), chip.station, chip.done, chip.total))
        x += w + PAD // 2
    ready, _waiting = action_state(order, CardMode.EXPO)
    return CardLayout(
        width=width, height=height, header=header, order_note=None, items=(), stations=tuple(chips),
        action=action, action_ready=ready, rush_band=None, held_course=next_held_course(order), compact=True,
        chips_hidden=len(stations) - len(chips), title=card_title(order),
    )
