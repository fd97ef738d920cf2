"""Where everything on a ticket card goes, computed once per ticket and width.

The delegate paints from this layout and the grid hit-tests taps against it, so what a cook touches is
exactly what was drawn. Measuring uses the same fonts and wrap flags as painting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from uuid import UUID

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics

from api_client.models import ItemStatus, OrderItemPublic, OrderStatus, OrderType, OrderWithItems, Priority
from api_client.order_machine import next_held_course
from sync.engine.tickets import station_on_hold

WRAP = int(Qt.TextFlag.TextWordWrap)
TIMES = "\u00d7"  # the multiplication sign: "2 times Burger" reads at a glance where "2x" does not
PAD = 12
# 15 mm on a 22" 1080p panel (~100 dpi) is ~60 px: buttons (BUMP, RUSH, FIRE) are never shorter.
MIN_TOUCH_PX = 60
# An item row (a tap strikes it) is at least 12 mm (48 px, above the usual 9-10 mm touch minimum): a plain
# "1x Burger" line is not padded to a button's height, so a 15" screen holds 6 typical tickets (issue 16).
MIN_ITEM_PX = 48

TYPE_LABELS = {
    OrderType.dine_in: "DINE-IN",
    OrderType.takeout: "TAKEOUT",
    OrderType.delivery: "DELIVERY",
    OrderType.pickup: "PICKUP",
}


class CardMode(Enum):
    STATION = "station"  # one station's items; the action bumps them
    EXPO = "expo"  # the whole order by station; the action serves it


class LineStyle(Enum):
    ITEM = "item"
    MODIFIER = "modifier"
    NOTE = "note"
    ALLERGEN = "allergen"


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


@dataclass(frozen=True)
class StationHeader:
    rect: QRect
    station: str
    done: int
    total: int


RUSH = "rush"  # the RUSH / UN-RUSH button: expo's (and, if configured, a station's)
FIRE = "fire"  # expo's FIRE COURSE n button, while an order has a held course


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
        self.number = self._font(round(base_pt * 1.6), bold=True)
        self.age = self._font(round(base_pt * 1.4), bold=True)
        self.meta = self._font(round(base_pt * 0.85), bold=True)
        self.item = self._font(base_pt, bold=True)
        self.modifier = self._font(round(base_pt * 0.9))
        self.note = self._font(round(base_pt * 0.9), italic=True)
        self.allergen = self._font(round(base_pt * 0.9), bold=True)
        self.tag = self._font(round(base_pt * 0.75), bold=True)
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
        }[style]

    def card_width(self) -> int:
        return max(300, self.base_pt * 18)


def header_lines(order: OrderWithItems) -> tuple[str, str]:
    """The two small lines under the number: what kind of order, and who/where it came from."""
    first = [TYPE_LABELS[order.type]]
    if order.table_label:
        first.append(f"T{order.table_label}" if order.table_label[:1].isdigit() else order.table_label)
    if order.guests:
        first.append(f"{order.guests} guest{'s' if order.guests != 1 else ''}")
    second = [part for part in (order.customer_name, order.server_name, order.source.value.upper()) if part]
    return " · ".join(first), " · ".join(second)


def item_tag(item: OrderItemPublic, eighty_sixed: frozenset[str] = frozenset()) -> str | None:
    """`eighty_sixed`: lower-case names of the items 86'd now; an open item of that name is tagged 86."""
    if item.changed_after_send:
        return "VOID" if item.status is ItemStatus.voided else "ADDED"
    if item.status is ItemStatus.voided:
        return "VOID"
    if item.status in (ItemStatus.new, ItemStatus.cooking) and item.name.strip().lower() in eighty_sixed:
        return "86"
    if item.held:
        return "HOLD"
    if item.status is ItemStatus.done:
        return "✓"
    return None


def _text_height(fm: QFontMetrics, width: int, text: str) -> int:
    return fm.boundingRect(QRect(0, 0, width, 100_000), WRAP, text).height()


def _item_block(
    item: OrderItemPublic, fonts: CardFonts, top: int, width: int, eighty_sixed: frozenset[str] = frozenset()
) -> ItemBlock:
    inner = width - 2 * PAD
    tag = item_tag(item, eighty_sixed)
    tag_width = QFontMetrics(fonts.tag).horizontalAdvance(tag) + 24 if tag else 0
    lines: list[TextLine] = []
    y = top + 6
    title = f"{item.quantity}{TIMES} {item.name}"
    entries: list[tuple[str, LineStyle, int, int]] = [(title, LineStyle.ITEM, 0, tag_width)]
    entries += [(f"• {m}", LineStyle.MODIFIER, 24, 0) for m in item.modifiers]
    if item.notes:
        entries.append((f"“{item.notes}”", LineStyle.NOTE, 24, 0))
    if item.allergens:
        entries.append(("⚠ ALLERGY: " + ", ".join(a.upper() for a in item.allergens), LineStyle.ALLERGEN, 0, 0))
    for text, style, indent, reserve in entries:
        fm = QFontMetrics(fonts.for_style(style))
        pad = 8 if style is LineStyle.ALLERGEN else 0
        w = inner - indent - reserve - 2 * pad
        h = _text_height(fm, w, text) + 2 * pad
        lines.append(TextLine(QRect(PAD + indent, y, inner - indent - reserve, h), text, style))
        y += h + (6 if style is LineStyle.ALLERGEN else 2)
    bottom = max(y + 4, top + MIN_ITEM_PX)
    return ItemBlock(item, QRect(0, top, width, bottom - top), tuple(lines), tag)


def header_meta(order: OrderWithItems) -> tuple[str, ...]:
    """The small lines the card shows under the number: two when the order has a customer's name (the second is
    the name, server and source), else one (type, table, guests, server; the source unless it is the POS)."""
    first, second = header_lines(order)
    if order.customer_name:
        return first, second
    rest = [part for part in (order.server_name, order.source.value.upper()) if part and part != "POS"]
    return (" · ".join([first, *rest]),)


def _header_height(fonts: CardFonts, lines: int = 2) -> int:
    # The number's line starts 8 px down (TicketDelegate._number_rect), the meta lines 3 px under it.
    return (
        8
        + QFontMetrics(fonts.number).height()
        + 3
        + lines * (QFontMetrics(fonts.meta).height() + 2)
        + 5
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
        controls.append(Control(RUSH, left, "UN-RUSH" if is_rush(order) else "RUSH"))
    course = next_held_course(order)
    if mode is CardMode.EXPO and course is not None:
        controls.append(Control(FIRE, right, f"FIRE COURSE {course}", course))
    return tuple(controls)


def layout_card(
    order: OrderWithItems,
    fonts: CardFonts,
    mode: CardMode,
    width: int | None = None,
    *,
    rush_control: bool = False,
    eighty_sixed: frozenset[str] = frozenset(),
) -> CardLayout:
    """`rush_control`: show the RUSH button (expo always does; a station only if the kitchen allows it).
    `eighty_sixed`: lower-case names of the items 86'd now, tagged on the card."""
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
        h = _text_height(fm, width - 2 * PAD, f"Note: {order.notes}")
        note = TextLine(QRect(PAD, y + 6, width - 2 * PAD, h), f"Note: {order.notes}", LineStyle.NOTE)
        y += h + 12
    blocks: list[ItemBlock] = []
    stations: list[StationHeader] = []
    if mode is CardMode.EXPO:
        station_h = QFontMetrics(fonts.station).height() + 12
        for station in sorted({i.station for i in order.order_items}):
            items = [i for i in order.order_items if i.station == station]
            active = [i for i in items if i.status is not ItemStatus.voided]
            done = sum(1 for i in active if i.status is ItemStatus.done)
            stations.append(StationHeader(QRect(0, y, width, station_h), station, done, len(active)))
            y += station_h
            for item in items:
                block = _item_block(item, fonts, y, width, eighty_sixed)
                blocks.append(block)
                y = block.rect.bottom() + 1
    else:
        for item in order.order_items:
            block = _item_block(item, fonts, y, width, eighty_sixed)
            blocks.append(block)
            y = block.rect.bottom() + 1
    action_h = max(MIN_TOUCH_PX, round(QFontMetrics(fonts.action).height() * 1.8))
    action = QRect(PAD // 2, y + 6, width - PAD, action_h)
    ready, waiting = action_state(order, mode)
    return CardLayout(
        width=width,
        height=action.bottom() + 1 + PAD // 2,
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
    text = "⚠ ALLERGY: " + ", ".join(allergens)
    inner = width - PAD - 2 * ALLERGY_FLAG_PAD
    h = _text_height(QFontMetrics(fonts.allergen), inner, text) + 2 * ALLERGY_FLAG_PAD
    return TextLine(QRect(PAD // 2, top, width - PAD, h), text, LineStyle.ALLERGEN)


def action_state(order: OrderWithItems, mode: CardMode) -> tuple[bool, tuple[str, ...]]:
    """Whether the card's action (bump / serve) would do anything, and for expo the stations still cooking."""
    if mode is CardMode.EXPO:
        cooking = {i.station for i in order.order_items if i.status in (ItemStatus.new, ItemStatus.cooking)}
        waiting = tuple(sorted(cooking))
        return order.status is OrderStatus.ready, waiting
    return any(i.status in (ItemStatus.new, ItemStatus.cooking) and not i.held for i in order.order_items), ()


def has_changes(order: OrderWithItems) -> bool:
    """An item on the card was added or voided after the order reached the kitchen and nobody acknowledged it."""
    return any(i.changed_after_send for i in order.order_items)


def is_rush(order: OrderWithItems) -> bool:
    return order.priority is Priority.rush
