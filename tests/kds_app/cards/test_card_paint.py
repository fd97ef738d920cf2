"""What a card paints for allergens, changes and held courses (issue 16), read back from the grid's own pixels:
allergens in a colour of their own with an ALLERGY flag in the header, ADDED and VOID amber until acknowledged,
and a held ticket's age that does not count until its course is fired."""

from __future__ import annotations

import colorsys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QFontMetrics, QImage
from pytestqt.qtbot import QtBot

from api_client.models import ItemStatus, OrderWithItems
from kds_app.cards.card_layout import CardFonts, LineStyle, layout_card
from kds_app.cards.ticket_delegate import TicketDelegate
from kds_app.cards.ticket_grid import TicketGrid
from kds_app.media import theme
from kds_app.startup.config import DEFAULT_THRESHOLDS
from kds_app.viewmodel.card_rules import CardMode
from kds_app.viewmodel.ticket_model import Role, Ticket, TicketModel
from tests.kds_app.factories import NOW, item, order

WARN_S, LATE_S = DEFAULT_THRESHOLDS
REDS = {"late": theme.AGE_LATE, "86": theme.EIGHTY_SIX, "offline": QColor("#d32f2f")}  # offline: resources/theme.qss


class Clock:
    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def grid(qtbot: QtBot, clock: Clock) -> Iterator[TicketGrid]:
    view = TicketGrid(TicketModel(clock=clock), TicketDelegate(20, lambda _station: DEFAULT_THRESHOLDS))
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    qtbot.waitExposed(view)
    yield view


def show(grid: TicketGrid, *orders: OrderWithItems, station: str | None = "grill") -> list[Ticket]:
    tickets = [Ticket(o, station) for o in orders]
    grid.ticket_model().set_tickets(tickets, announce=False)
    return tickets


def painted(grid: TicketGrid) -> QImage:
    grid.relayout()
    return grid.viewport().grab().toImage()


def card_rect(grid: TicketGrid, ticket: Ticket) -> QRect:
    assert grid.show_ticket(ticket.key)
    return grid.visual_rect(ticket.key)


def near(actual: QColor, expected: QColor, tolerance: int = 10) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(actual.getRgb()[:3], expected.getRgb()[:3], strict=True))


def mix(a: QColor, b: QColor) -> QColor:
    """`a` painted at half opacity over `b` (a held card is drawn greyed)."""
    return QColor((a.red() + b.red()) // 2, (a.green() + b.green()) // 2, (a.blue() + b.blue()) // 2)


def header_colour(grid: TicketGrid, ticket: Ticket) -> QColor:
    """The header's fill, bottom right, clear of the number, age and meta lines."""
    grid.relayout()
    head = grid.delegate.layout_for(ticket).header.translated(card_rect(grid, ticket).topLeft())
    return painted(grid).pixelColor(QPoint(head.right() - 14, head.bottom() - 6))


def luminance(c: QColor) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hue_degrees(c: QColor) -> float:
    return colorsys.rgb_to_hsv(c.redF(), c.greenF(), c.blueF())[0] * 360


def hue_gap(a: QColor, b: QColor) -> float:
    gap = abs(hue_degrees(a) - hue_degrees(b)) % 360
    return min(gap, 360 - gap)


# ---------------------------------------------------------------- allergens


def test_allergens_have_a_colour_of_their_own_that_reads_on_the_dark_theme() -> None:
    assert contrast(theme.ALLERGEN_TEXT, theme.ALLERGEN) >= 7, "AAA for the band's text"
    assert contrast(theme.ALLERGEN, theme.CARD) >= 4.5, "the band stands out from the card"
    for name, red in REDS.items():
        assert hue_gap(theme.ALLERGEN, red) >= 45 and contrast(theme.ALLERGEN, red) >= 1.8, name
    for other in (theme.CHANGED, theme.RUSH, theme.AGE_WARN, theme.BUMP, theme.NEW_HIGHLIGHT, theme.HELD):
        assert hue_gap(theme.ALLERGEN, other) >= 45 or contrast(theme.ALLERGEN, other) >= 2


def test_an_allergy_on_the_last_item_is_flagged_in_the_header_even_below_the_fold(grid: TicketGrid) -> None:
    long = order("41")
    lines = [item(long.id, f"Dish {n}", modifiers=("no salt", "extra sauce")) for n in range(5)]
    lines.append(item(long.id, "Satay", allergens=("peanut", " sesame", "Peanut")))
    long = long.model_copy(update={"order_items": lines})
    plain = order("42", ("Burger", "grill"))
    tickets = show(grid, long, plain)
    image = painted(grid)

    layout = grid.delegate.layout_for(tickets[0])
    origin = card_rect(grid, tickets[0]).topLeft()
    satay = next(b for b in layout.items if b.item.name == "Satay")
    assert satay.rect.translated(origin).top() > grid.viewport().height(), "the allergic dish is below the first column"
    flag = layout.allergy
    assert flag is not None and flag.text == "⚠ ALLERGY: PEANUT, SESAME"  # each once, in capitals
    assert flag.rect.top() > layout.header.bottom() and flag.rect.bottom() < layout.items[0].rect.top()
    assert flag.rect.width() >= layout.width * 0.9
    shown = flag.rect.translated(origin)
    assert grid.viewport().rect().contains(shown)
    assert near(image.pixelColor(QPoint(shown.right() - 4, shown.center().y())), theme.ALLERGEN)

    # A card without allergens has no flag: its first item follows the header.
    no_flag = grid.delegate.layout_for(tickets[1])
    assert no_flag.allergy is None
    top = card_rect(grid, tickets[1]).topLeft()
    assert not near(image.pixelColor(top + QPoint(shown.right() - origin.x() - 4, shown.center().y() - origin.y())),
                    theme.ALLERGEN)


def test_an_item_s_allergen_band_is_violet_with_dark_text_never_red(grid: TicketGrid) -> None:
    made = order("43", ("Satay", "grill"), allergens=("peanut",))
    [ticket] = show(grid, made)
    image = painted(grid)
    layout = grid.delegate.layout_for(ticket)
    origin = card_rect(grid, ticket).topLeft()
    [band] = [line for line in layout.items[0].lines if line.style is LineStyle.ALLERGEN]
    fill = image.pixelColor(origin + QPoint(band.rect.right() - 4, band.rect.center().y()))
    assert near(fill, theme.ALLERGEN), fill.name()
    assert not any(near(fill, red, 40) for red in REDS.values())
    # Its text is drawn in the band's ink: the darkest pixels across the band are the text's.
    row = [image.pixelColor(origin + QPoint(x, band.rect.center().y())) for x in range(band.rect.left() + 8,
                                                                                       band.rect.right() - 8)]
    assert min(luminance(c) for c in row) < 0.05


def test_expo_flags_an_allergy_at_any_station(qapp) -> None:
    made = order("44", ("Fries", "fry"), ("Satay", "grill"))
    satay = made.order_items[1].model_copy(update={"allergens": ["peanut"]})
    made = made.model_copy(update={"order_items": [made.order_items[0], satay]})
    expo = layout_card(made, CardFonts(20), CardMode.EXPO)
    assert expo.allergy is not None and expo.allergy.text == "⚠ ALLERGY: PEANUT"
    fry_only = made.model_copy(update={"order_items": [made.order_items[0]]})  # the fryer's ticket
    assert layout_card(fry_only, CardFonts(20), CardMode.STATION).allergy is None


# ---------------------------------------------------------------- ADDED and VOID


def test_added_and_void_are_amber_until_acknowledged_then_void_is_grey(grid: TicketGrid) -> None:
    made = order("45")
    made = made.model_copy(update={"order_items": [
        item(made.id, "Burger"),
        item(made.id, "Steak", changed=True),
        item(made.id, "Salad", status=ItemStatus.voided, changed=True),
        item(made.id, "Rings", status=ItemStatus.voided),
    ]})
    [ticket] = show(grid, made)
    image = painted(grid)
    layout = grid.delegate.layout_for(ticket)
    origin = card_rect(grid, ticket).topLeft()
    fills = {}
    for block in layout.items[1:]:
        pill = grid.delegate.tag_rect(block, layout.width).translated(origin)
        fills[(block.item.name, block.tag)] = image.pixelColor(QPoint(pill.right() - 3, pill.center().y()))
    assert set(fills) == {("Steak", "ADDED"), ("Salad", "VOID"), ("Rings", "VOID")}
    assert near(fills[("Steak", "ADDED")], theme.CHANGED)
    assert near(fills[("Salad", "VOID")], theme.CHANGED)  # unacknowledged: amber, as ADDED
    assert near(fills[("Rings", "VOID")], theme.SERVE_WAITING)  # acknowledged: quiet
    assert not any(near(c, red, 40) for c in fills.values() for red in REDS.values())


def test_a_station_card_with_only_changes_left_acknowledges_instead_of_saying_on_hold(qapp) -> None:
    made = order("46")
    made = made.model_copy(update={"order_items": [
        item(made.id, "Burger", status=ItemStatus.done),
        item(made.id, "Salad", status=ItemStatus.voided, changed=True),
    ]})
    layout = layout_card(made, CardFonts(20), CardMode.STATION)
    assert layout.acknowledge and not layout.action_ready and not layout.on_hold
    open_too = made.model_copy(update={"order_items": [*made.order_items, item(made.id, "Steak")]})
    assert not layout_card(open_too, CardFonts(20), CardMode.STATION).acknowledge  # BUMP does it


# ---------------------------------------------------------------- held courses


def coursed(number: str, age_s: float) -> OrderWithItems:
    """Starters at the saute (course 1), mains at the grill held (course 2), as the POS sends them."""
    made = order(number, age_s=age_s)
    return made.model_copy(update={"order_items": [
        item(made.id, "Soup", "saute", course=1),
        item(made.id, "Ribeye", course=2, held=True),
        item(made.id, "Chicken", course=2, held=True),
    ]})


def grill_ticket(made: OrderWithItems, *, fired: bool = False, soup: ItemStatus | None = None) -> Ticket:
    items = [i for i in made.order_items if i.station == "grill"]
    if fired:
        items = [i.model_copy(update={"held": False, "version": 2}) for i in items]
    if soup is not None:
        items += [i.model_copy(update={"status": soup}) for i in made.order_items if i.station == "saute"]
    return Ticket(made.model_copy(update={"order_items": items}), "grill")


def age(grid: TicketGrid, ticket: Ticket) -> float:
    model = grid.ticket_model()
    return model.data(model.index(model.row_of(ticket.key)), Role.AGE_S)


def test_a_held_ticket_s_age_does_not_count_and_its_clock_starts_when_the_course_is_fired(
    grid: TicketGrid, clock: Clock
) -> None:
    made = coursed("T9", age_s=LATE_S + 120)  # ordered long ago: by its order time it would be red
    [held] = show(grid, grill_ticket(made).order)
    assert held.on_hold and age(grid, held) == 0
    assert grid.delegate.age_look(held, grid.delegate.layout_for(held), 0)[2] == "HELD"  # where the age was
    colour = header_colour(grid, held)
    assert near(colour, mix(theme.HELD, theme.CARD), 14), colour.name()
    assert not any(near(colour, mix(c, theme.CARD), 20) for c in (theme.AGE_LATE, theme.AGE_WARN, theme.AGE_OK))

    clock.t += 90  # still held: still not counting
    grid.ticket_model().tick()
    assert age(grid, held) == 0

    fired = grill_ticket(made, fired=True)
    grid.ticket_model().set_tickets([fired])  # expo fired course 2
    assert age(grid, fired) == 0
    assert near(header_colour(grid, fired), theme.AGE_OK)
    clock.t += WARN_S + 10
    grid.ticket_model().tick()
    assert age(grid, fired) == pytest.approx(WARN_S + 10)
    assert near(header_colour(grid, fired), theme.AGE_WARN)  # yellow on the fire's clock, not red on the order's


def two_courses(number: str, age_s: float) -> OrderWithItems:
    """A burger (course 1) and a steak (course 2, held), both at the grill."""
    made = order(number, age_s=age_s)
    return made.model_copy(update={"order_items": [
        item(made.id, "Burger", course=1), item(made.id, "Steak", course=2, held=True),
    ]})


def changed(ticket: Ticket, **by_name: dict[str, object]) -> Ticket:
    items = [i.model_copy(update={**by_name.get(i.name, {}), "version": i.version + 1}) if i.name in by_name else i
             for i in ticket.order.order_items]
    return Ticket(ticket.order.model_copy(update={"order_items": items}), ticket.station)


def test_a_course_fired_early_keeps_the_age_of_the_work_already_open_and_an_auto_fire_restarts_it(
    grid: TicketGrid,
) -> None:
    early, auto = show(grid, two_courses("T10", WARN_S + 30), two_courses("T11", WARN_S + 40))
    assert age(grid, early) == pytest.approx(WARN_S + 30)  # the burger has been waiting that long

    # Expo fires the steak while the burger is still cooking: the burger's wait still counts.
    early = changed(early, Steak={"held": False})
    # The cook bumps the burger, which fires the steak in the same change: the steak starts its own clock.
    auto = changed(auto, Burger={"status": ItemStatus.done}, Steak={"held": False})
    grid.ticket_model().set_tickets([early, auto])
    assert age(grid, early) == pytest.approx(WARN_S + 30)
    assert near(header_colour(grid, early), theme.AGE_WARN)
    assert age(grid, auto) == 0
    assert near(header_colour(grid, auto), theme.AGE_OK)


def test_expo_keeps_the_order_s_clock(grid: TicketGrid) -> None:
    [ticket] = show(grid, coursed("T12", age_s=LATE_S + 5), station=None)
    assert age(grid, ticket) == pytest.approx(LATE_S + 5)
    assert near(header_colour(grid, ticket), theme.AGE_LATE)


def test_a_course_first_seen_already_fired_counts_from_the_order(grid: TicketGrid) -> None:
    """A screen started after the course was fired did not see the fire: the order's time, on the safe side."""
    [ticket] = show(grid, grill_ticket(coursed("T13", age_s=LATE_S + 5), fired=True).order)
    assert age(grid, ticket) == pytest.approx(LATE_S + 5)


def test_a_long_station_name_is_cut_short_before_the_age_and_the_number_never_is(grid: TicketGrid) -> None:
    # An all-stations screen names each card's station (issue 16); a long name on a narrow card gives way to the
    # age on the right, the number stays whole.
    grid.delegate.set_show_station(True)
    grill, long = Ticket(order("1042"), "grill"), Ticket(order("1043"), "garde-manger-and-cold-starters")
    grid.ticket_model().set_tickets([grill, long], announce=False)
    grid.relayout()
    delegate = grid.delegate
    assert delegate.title_text(delegate.layout_for(grill)) == "#1042 · GRILL"
    number, station = delegate.title_parts(delegate.layout_for(long))
    assert (number, station[:5], station[-1]) == ("#1043", " · GA", "…"), station
    fonts = delegate.fonts
    used = QFontMetrics(fonts.number).horizontalAdvance(number) + QFontMetrics(fonts.meta).horizontalAdvance(station)
    assert used + QFontMetrics(fonts.age).horizontalAdvance("00:00") <= delegate.layout_for(long).width - 2 * 12


def age_pixels(grid: TicketGrid, ticket: Ticket) -> QImage:
    """The right half of the card's header band, where its age is drawn."""
    grid.relayout()
    head = grid.delegate.layout_for(ticket).header.translated(card_rect(grid, ticket).topLeft())
    return painted(grid).copy(QRect(head.center().x(), head.top(), head.width() // 2, head.height() // 2))


def test_the_age_is_painted_anew_on_each_tick_never_from_a_stale_picture(
    grid: TicketGrid, clock: Clock, qtbot: QtBot
) -> None:
    """Ages are blitted from small cached pictures (a rail that moves on every arrival repaints each card many times
    a second): a tick must still show the new age, exactly as a screen that never drew the old one shows it."""
    made = order("41", age_s=30)
    [ticket] = show(grid, made)
    before = age_pixels(grid, ticket)
    clock.t += 61
    grid.ticket_model().tick()
    after = age_pixels(grid, ticket)
    assert after != before, "the age did not change on the tick"

    fresh = TicketGrid(TicketModel(clock=clock), TicketDelegate(20, lambda _station: DEFAULT_THRESHOLDS))
    qtbot.addWidget(fresh)
    fresh.resize(grid.size())
    fresh.show()
    qtbot.waitExposed(fresh)
    [again] = show(fresh, made)
    assert age_pixels(fresh, again) == after, "the ticked age differs from one drawn afresh"
