"""Issue 16: type a cook reads from two metres, measured from the fonts the delegate actually draws each line in
(a painter that notes every font and text), at the default font size: an item line's capitals at least 24 px
tall (6 mm on a 21" 1080p panel, 0.24 mm a pixel), a modifier's at least 20 px (5 mm), the header's meta at
least 18 px (it was 14). The density goals hold with these sizes: `test_ticket_grid.py`'s
test_density_goal_in_the_cook_s_window_at_kitchen_resolutions lays out the real window at 1366x768 and
1920x1080."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPixmap
from pytestqt.qtbot import QtBot

from kds_app.cards.card_layout import TIMES, header_meta, moved_text
from kds_app.cards.ticket_delegate import TicketDelegate
from kds_app.startup.config import DEFAULT_THRESHOLDS, AppConfig
from kds_app.viewmodel.ticket_model import CardState, Ticket
from tests.kds_app.factories import order

ITEM_CAP_PX = 24
MODIFIER_CAP_PX = 20
META_CAP_PX = 18


class NotingPainter(QPainter):
    """A painter that notes the font of every text it draws."""

    def __init__(self, device: QPixmap) -> None:
        super().__init__(device)
        self.texts: list[tuple[str, QFont]] = []

    def drawText(self, *args: object) -> None:  # type: ignore[override]
        self.texts.append((str(args[-1]), QFont(self.font())))
        super().drawText(*args)  # type: ignore[call-overload]


def drawn_texts(ticket: Ticket) -> dict[str, int]:
    """Every text the delegate draws on the card, with the cap height of the font it is drawn in."""
    delegate = TicketDelegate(AppConfig().font_size, lambda _station: DEFAULT_THRESHOLDS)
    layout = delegate.layout_for(ticket)
    pixmap = QPixmap(layout.width, layout.height)
    painter = NotingPainter(pixmap)
    try:
        state = CardState(ticket=ticket, age_s=95.0, highlight=False, armed=False, armed_control=None, selected=False)
        fill, _ink, _age = delegate.age_look(ticket, layout, state.age_s)
        delegate._draw_card(painter, ticket, layout, (fill.rgba(), False, False, None, False), state.age_s)
    finally:
        painter.end()
    return {text: QFontMetrics(font).capHeight() for text, font in painter.texts}


def test_item_lines_modifiers_and_header_meta_are_read_from_two_metres(qtbot: QtBot) -> None:
    made = order("1042", ("Cheeseburger", "grill"), ("Ribeye", "grill"), modifiers=("medium rare",))
    drawn = drawn_texts(Ticket(made, "grill"))
    items = {text: cap for text, cap in drawn.items() if text.startswith(f"1{TIMES}")}
    modifiers = {text: cap for text, cap in drawn.items() if text.startswith("• ")}
    meta = {text: cap for text, cap in drawn.items() if any(text.startswith(m[:10]) for m in header_meta(made))}
    assert set(items) == {f"1{TIMES} Cheeseburger", f"1{TIMES} Ribeye"} and set(modifiers) == {"• medium rare"} and meta
    assert min(items.values()) >= ITEM_CAP_PX, items
    assert min(modifiers.values()) >= MODIFIER_CAP_PX, modifiers
    assert min(meta.values()) >= META_CAP_PX, meta
    assert drawn["#1042"] > min(items.values()), "the order number stays the largest line on the card"


def test_a_moved_dish_s_origin_is_read_as_a_modifier_is(qtbot: QtBot) -> None:
    made = order("1043", ("Chicken skewers", "fry"))
    made = made.model_copy(update={"order_items": [made.order_items[0].model_copy(update={"moved_from": "grill"})]})
    drawn = drawn_texts(Ticket(made, "fry"))
    mark = moved_text("grill")
    assert mark in drawn and drawn[mark] >= MODIFIER_CAP_PX, drawn
