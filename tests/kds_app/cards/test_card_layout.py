"""Card geometry: touch targets big enough for a wet finger, taps land on what was drawn, allergens shown."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontMetrics

from api_client.models import ItemStatus, OrderStatus
from kds_app.cards.card_layout import (
    MIN_ITEM_PX,
    MIN_TOUCH_PX,
    CardFonts,
    LineStyle,
    item_tag,
    layout_card,
    tag_label,
)
from kds_app.cards.ticket_delegate import TicketDelegate
from kds_app.viewmodel.card_rules import CardMode
from tests.kds_app.factories import order


def test_every_item_row_and_the_bump_zone_are_touch_sized(qapp) -> None:
    ticket = order("7", ("Fries", "fry"), ("Burger", "grill"), ("Salad", "cold"))
    layout = layout_card(ticket, CardFonts(18), CardMode.STATION)
    assert MIN_ITEM_PX >= 48 and MIN_TOUCH_PX >= 60  # 12 mm item rows, 15 mm buttons at ~100 dpi
    assert all(block.rect.height() >= MIN_ITEM_PX for block in layout.items)
    assert layout.action.height() >= MIN_TOUCH_PX
    assert layout.action.width() >= layout.width * 0.9


def test_taps_hit_the_item_drawn_there_and_the_bump_zone(qapp) -> None:
    ticket = order("7", ("Fries", "fry"), ("Burger", "grill"))
    layout = layout_card(ticket, CardFonts(18), CardMode.STATION)
    for block in layout.items:
        assert layout.hit(block.rect.center()).item_id == block.item.id
    assert layout.hit(layout.action.center()).action
    assert layout.hit(QPoint(layout.width // 2, 5)) is None  # the header does nothing


def test_allergens_get_their_own_line_in_capitals(qapp) -> None:
    ticket = order("7", ("Satay", "grill"), allergens=("peanut", "sesame"))
    block = layout_card(ticket, CardFonts(18), CardMode.STATION).items[0]
    allergen = [line for line in block.lines if line.style is LineStyle.ALLERGEN]
    assert [line.text for line in allergen] == ["⚠ ALLERGY: PEANUT, SESAME"]


def test_a_larger_font_makes_a_larger_card(qapp) -> None:
    ticket = order("7", ("Fries", "fry"), modifiers=("no salt", "extra crispy"))
    small = layout_card(ticket, CardFonts(14), CardMode.STATION)
    large = layout_card(ticket, CardFonts(28), CardMode.STATION)
    assert large.height > small.height and large.width > small.width


def test_expo_groups_by_station_with_progress_and_serves_only_when_ready(qapp) -> None:
    ticket = order("9", ("Fries", "fry"), ("Burger", "grill"), ("Steak", "grill"))
    done = ticket.order_items[1].model_copy(update={"status": ItemStatus.done})
    ticket = ticket.model_copy(update={"order_items": [ticket.order_items[0], done, ticket.order_items[2]]})
    layout = layout_card(ticket, CardFonts(18), CardMode.EXPO)
    assert [(s.station, s.done, s.total) for s in layout.stations] == [("fry", 0, 1), ("grill", 1, 2)]
    assert not layout.action_ready and layout.waiting_on == ("fry", "grill")
    # The whole order, so no station in its header: the sections' loop once left its last one there ("#9 · GRILL",
    # seen on an expo under a real X server).
    assert layout.title == "#9"
    ready = ticket.model_copy(update={"status": OrderStatus.ready})
    assert layout_card(ready, CardFonts(18), CardMode.EXPO).action_ready


def test_a_station_card_with_only_held_items_has_nothing_to_bump(qapp) -> None:
    layout = layout_card(order("3", ("Cake", "pastry"), held=True), CardFonts(18), CardMode.STATION)
    assert not layout.action_ready
    assert layout.items[0].tag == "HOLD"


def test_an_item_the_backup_printer_printed_says_so_until_it_is_done(qapp) -> None:
    """Issue 19, item 3: while no screen of the station was there the companion printed the ticket; back on the
    screen, the items already on paper say PRINTED (a done one says ✓, an 86 or a hold says that first)."""
    printed = order("5", ("Burger", "grill"), ("Fries", "grill"))
    at = printed.created_at
    burger = printed.order_items[0].model_copy(update={"printed_at": at})
    fries = printed.order_items[1]
    card = printed.model_copy(update={"order_items": [burger, fries]})
    layout = layout_card(card, CardFonts(18), CardMode.STATION)
    assert [block.tag for block in layout.items] == ["PRINTED", None]
    done = burger.model_copy(update={"status": ItemStatus.done})
    assert item_tag(done) == "✓"
    assert item_tag(burger, frozenset({"burger"})) == "86"
    assert tag_label("PRINTED") == "PRINTED"


def test_an_item_the_screens_own_printer_printed_says_printed_until_it_is_done(qapp) -> None:
    """Issue 19, item 3: the screen's own printer put the ticket on paper while no server answered; the card says
    PRINTED for those items (a local source: the server never marked them), and ✓ once done."""
    card = order("6", ("Burger", "grill"), ("Fries", "grill"))
    burger, _fries = card.order_items
    layout = layout_card(card, CardFonts(18), CardMode.STATION, printed_here=frozenset({burger.id}))
    assert [block.tag for block in layout.items] == ["PRINTED", None]
    assert item_tag(burger.model_copy(update={"status": ItemStatus.done}), printed_here=frozenset({burger.id})) == "✓"


def test_a_tag_never_cuts_a_word_of_the_dish(qapp) -> None:
    """Seen on a 360 px card: "1x Cheeseburg" beside PRINTED, the rest of the word clipped. A dish whose longest
    word does not fit beside its tag gets the tag on a row of its own, above the whole-width dish."""
    fonts = CardFonts(18)
    card = order("7", ("Cheeseburger", "grill"), ("Fries", "grill"))
    burger, fries = card.order_items
    layout = layout_card(card, fonts, CardMode.STATION, printed_here=frozenset({burger.id, fries.id}))
    item_fm = QFontMetrics(fonts.item)
    delegate = TicketDelegate(18, lambda _station: (300, 480))
    for block in layout.items:
        title = block.lines[0]
        assert all(item_fm.horizontalAdvance(word) <= title.rect.width() for word in title.text.split()), title
        assert not delegate.tag_rect(block, layout.width).intersects(title.rect), (block.item.name, title.rect)
    burger_block, fries_block = layout.items
    assert burger_block.lines[0].rect.width() > fries_block.lines[0].rect.width()  # the long name: a row of its own
