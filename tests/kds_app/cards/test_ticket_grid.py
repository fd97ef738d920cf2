"""The paged masonry card grid: whole cards only, a page bar that counts what is hidden, pages turned by buttons,
swipes and keys (a swipe never taps), the page kept when tickets leave, re-flow on resize, and repaints limited to
the cards that changed (issue 16; issue 15's cost per pushed order)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from api_client.models import DeviceRole, ItemStatus
from kds_app.cards.card_layout import CardFonts
from kds_app.cards.masonry import MARGIN
from kds_app.cards.ticket_delegate import TicketDelegate
from kds_app.cards.ticket_grid import TicketGrid
from kds_app.media import theme
from kds_app.media.sound import AlertSound
from kds_app.startup.config import DEFAULT_THRESHOLDS, AppConfig
from kds_app.startup.connect import Connection
from kds_app.viewmodel.ticket_model import CardState, Ticket, TicketModel
from kds_app.windows.app import Session
from tests.helpers.grid_cards import finger_tap, typical_tickets
from tests.kds_app.conftest import engine_config
from tests.kds_app.factories import NOW, item, order


class RecordingDelegate(TicketDelegate):
    """The real delegate, noting which cards it actually drew."""

    def __init__(self) -> None:
        super().__init__(18, lambda _station: DEFAULT_THRESHOLDS)
        self.drawn: list[str] = []

    def paint_card(self, painter: QPainter, at: QPoint, card: CardState) -> None:
        self.drawn.append(card.ticket.key)
        super().paint_card(painter, at, card)


def tickets(count: int, *, items: int = 2, first: int = 0) -> list[Ticket]:
    dishes = [("Burger", "grill"), ("Steak", "grill"), ("Wings", "grill"), ("Ribs", "grill"), ("Chops", "grill")]
    return [Ticket(order(str(n), *dishes[:items], age_s=6000 - n), "grill") for n in range(first, first + count)]


def make_grid(qtbot: QtBot, size: tuple[int, int], shown: list[Ticket]) -> TicketGrid:
    view = TicketGrid(TicketModel(), RecordingDelegate())
    qtbot.addWidget(view)
    view.resize(*size)
    view.ticket_model().set_tickets(shown, announce=False)
    view.show()
    qtbot.waitExposed(view)
    view.relayout()
    return view


@pytest.fixture
def grid(qtbot: QtBot) -> Iterator[TicketGrid]:
    view = make_grid(qtbot, (1600, 900), tickets(40))
    qtbot.waitUntil(lambda: len(recorder(view).drawn) >= 6)
    yield view


def recorder(view: TicketGrid) -> RecordingDelegate:
    assert isinstance(view.delegate, RecordingDelegate)
    return view.delegate


def whole_cards_only(view: TicketGrid) -> None:
    area = view.viewport().rect()
    cards = view.page_cards()
    assert cards
    for key, rect in cards:
        assert area.contains(rect), f"{key} {rect} is cut by the view {area}"
        height = view.delegate.layout_for(next(t for t in view.ticket_model().tickets() if t.key == key)).height
        assert rect.height() == height, "a card is shown whole"
    for n, (_key, a) in enumerate(cards):
        for _other, b in cards[n + 1 :]:
            assert not a.intersects(b), "cards never overlap"


def changed(ticket: Ticket, **update: object) -> Ticket:
    first = ticket.order.order_items[0].model_copy(update={"version": 2, **update})
    return Ticket(
        ticket.order.model_copy(update={"order_items": [first, *ticket.order.order_items[1:]]}), ticket.station
    )


def swipe(widget: QWidget, start: QPoint, end: QPoint) -> None:
    """A finger put down at `start`, dragged to `end` in steps and lifted (Qt turns it into mouse events)."""
    device = QTest.createTouchDevice()
    window = widget.window().windowHandle()
    at = widget.mapTo(widget.window(), start)
    QTest.touchEvent(window, device).press(0, at, window).commit()
    for step in range(1, 6):
        point = start + (end - start) * (step / 5)
        QTest.touchEvent(window, device).move(0, widget.mapTo(widget.window(), point), window).commit()
    QTest.touchEvent(window, device).release(0, widget.mapTo(widget.window(), end), window).commit()


# ---------------------------------------------------------------- pages


def test_pages_show_whole_cards_and_count_what_is_hidden(grid: TicketGrid) -> None:
    whole_cards_only(grid)
    total = grid.ticket_model().rowCount()
    shown = grid.visible_keys()
    assert grid.page() == 0 and grid.page_count() > 1
    assert shown == [t.key for t in grid.ticket_model().tickets()[: len(shown)]], "oldest first, none skipped"
    assert grid.hidden_count() == total - len(shown)
    assert grid.page_bar.label.text() == f"page 1/{grid.page_count()} · +{total - len(shown)} more"
    assert not grid.page_bar.previous.isEnabled() and grid.page_bar.next.isEnabled()
    seen = list(shown)
    for page in range(1, grid.page_count()):
        grid.set_page(page)
        whole_cards_only(grid)
        seen += grid.visible_keys()
        assert grid.hidden_count() == total - len(seen)
    assert seen == [t.key for t in grid.ticket_model().tickets()], "every ticket on exactly one page, in order"
    assert grid.page_bar.label.text() == f"page {grid.page_count()}/{grid.page_count()}"
    assert not grid.page_bar.next.isEnabled()


def test_the_oldest_ticket_is_top_left_and_cards_pack_into_the_shortest_column(qtbot: QtBot) -> None:
    mixed = [
        Ticket(order(str(n), *[("Burger", "grill")] * (1 + (n * 7) % 4), age_s=900 - n), "grill") for n in range(12)
    ]
    view = make_grid(qtbot, (1400, 1000), mixed)
    cards = dict(view.page_cards())
    first = cards[mixed[0].key]
    assert all(first.top() <= r.top() and first.left() <= r.left() for r in cards.values())
    # Masonry: under every card of a column is the next card of that column, a gap below, not a row's height.
    by_column: dict[int, list[QRect]] = {}
    for rect in cards.values():
        by_column.setdefault(rect.left(), []).append(rect)
    assert len(by_column) >= 3
    for column in by_column.values():
        column.sort(key=QRect.top)
        for above, below in pairwise(column):
            assert below.top() - above.bottom() - 1 <= 12


def test_page_buttons_swipes_and_page_keys_turn_pages(grid: TicketGrid, qtbot: QtBot) -> None:
    qtbot.mouseClick(grid.page_bar.next, Qt.MouseButton.LeftButton)
    assert grid.page() == 1 and grid.page_bar.label.text().startswith(f"page 2/{grid.page_count()}")
    qtbot.mouseClick(grid.page_bar.previous, Qt.MouseButton.LeftButton)
    assert grid.page() == 0
    middle = grid.viewport().rect().center()
    swipe(grid.viewport(), middle + QPoint(200, 0), middle - QPoint(200, 0))  # finger to the left: next page
    assert grid.page() == 1
    swipe(grid.viewport(), middle - QPoint(200, 0), middle + QPoint(200, 0))
    assert grid.page() == 0
    grid.setFocus()
    QTest.keyClick(grid, Qt.Key.Key_PageDown)
    assert grid.page() == 1
    QTest.keyClick(grid, Qt.Key.Key_PageUp)
    QTest.keyClick(grid, Qt.Key.Key_PageUp)  # already on the first page: stays
    assert grid.page() == 0
    for button in (grid.page_bar.previous, grid.page_bar.next):
        assert button.height() >= 48 and button.width() >= 48, "big enough for a wet finger"


def test_a_swipe_that_starts_on_bump_never_taps(grid: TicketGrid, qtbot: QtBot) -> None:
    taps: list[object] = []
    grid.action_tapped.connect(taps.append)
    grid.item_tapped.connect(lambda *a: taps.append(a))
    ticket = grid.ticket_model().tickets()[1]
    bump = grid.point_of(ticket.key)
    swipe(grid.viewport(), bump, bump - QPoint(150, 0))
    assert taps == [] and grid.page() == 1
    swipe(grid.viewport(), grid.point_of(ticket.key), grid.point_of(ticket.key) + QPoint(0, 0))  # a plain tap
    assert taps == [ticket.key]
    # A drag that ends back where it started (over the same item) is not a tap either.
    item_at = grid.point_of(ticket.key, ticket.order.order_items[0].id)
    swipe(grid.viewport(), item_at, item_at + QPoint(0, 60))
    assert taps == [ticket.key]


def test_bumping_the_cards_of_the_last_page_keeps_a_valid_page(qtbot: QtBot) -> None:
    view = make_grid(qtbot, (1366, 700), tickets(20))
    model = view.ticket_model()
    assert view.page_count() >= 3
    last = view.page_count() - 1
    view.set_page(last)
    while len(view.visible_keys()) > 1:  # bump the last page down to one card...
        model.set_tickets([t for t in model.tickets() if t.key != view.visible_keys()[-1]])
        view.relayout()
        assert view.page() == last, "a ticket leaving never moves the cook to another page"
    model.set_tickets([t for t in model.tickets() if t.key != view.visible_keys()[0]])  # ...then its last
    view.relayout()
    assert view.page() == last - 1 == view.page_count() - 1, "clamped to the page before, not back to page 1"
    assert view.visible_keys() and view.page_bar.label.text() == f"page {last}/{last}"
    whole_cards_only(view)


def test_a_bump_on_page_one_keeps_the_cook_on_page_two(grid: TicketGrid) -> None:
    model = grid.ticket_model()
    grid.set_page(1)
    model.set_tickets(model.tickets()[1:])
    grid.relayout()
    assert grid.page() == 1
    whole_cards_only(grid)


def test_point_of_turns_to_the_ticket_s_page(grid: TicketGrid) -> None:
    last = grid.ticket_model().tickets()[-1]
    point = grid.point_of(last.key)
    assert grid.page() == grid.page_count() - 1
    assert grid.target_at(point) is not None and grid.target_at(point)[0] == last.key  # type: ignore[index]
    assert grid.visual_rect(last.key).contains(point)
    assert grid.visual_rect(grid.ticket_model().tickets()[0].key).isEmpty(), "not on this page"


# ---------------------------------------------------------------- density


@pytest.mark.parametrize(("size", "goal"), [((1366, 768), 6), ((1920, 1080), 12)])
def test_density_goal_in_the_cook_s_window_at_kitchen_resolutions(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, size: tuple[int, int], goal: int
) -> None:
    """Typical station tickets (2 or 3 items, some with a modifier) in the real cook's window, under its top bar
    and prep strip, in the theme's sizes: at least 6 whole at 1366x768 and 12 at 1920x1080 (issue 16)."""
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
    # Never started: the closed port is never dialled; only the widgets are under test.
    connection = Connection(engine_config("http://127.0.0.1:9", tmp_path, "r1-screen-1", DeviceRole.kds, ("grill",)))
    session = Session.create(AppConfig(view="station", stations=("grill",)), connection, sound=AlertSound(False))
    try:
        session.screen.model.set_tickets(typical_tickets(30), announce=False)
        window = session.window
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.grid.viewport().height() < size[1] - 100)
        grid = window.grid
        grid.relayout()
        whole_cards_only(grid)
        assert len(grid.visible_keys()) >= goal, f"{len(grid.visible_keys())} whole tickets at {size}"
        assert grid.page_bar.isVisible() and "more" in grid.page_bar.label.text()
    finally:
        session.window.detach()
        session.window.close()
        session.engine.store.close()
        qapp.setStyleSheet("")


# ---------------------------------------------------------------- re-flow and repaints


def test_the_grid_reflows_when_it_widens_without_a_tap(qtbot: QtBot) -> None:
    card = CardFonts(18).card_width() + 16
    view = make_grid(qtbot, (2 * card + 40, 900), tickets(10))
    columns = {rect.left() for _key, rect in view.page_cards()}
    assert len(columns) == 2
    view.resize(3 * card + 60, 900)
    qtbot.waitUntil(lambda: len({rect.left() for _key, rect in view.page_cards()}) == 3)
    whole_cards_only(view)
    assert view.viewport().rect().right() - max(r.right() for _k, r in view.page_cards()) < 40, "no blank band"


def test_striking_an_item_repaints_that_card_only_and_moves_nothing(grid: TicketGrid, qtbot: QtBot) -> None:
    model = grid.ticket_model()
    before = grid.page_cards()
    ticket = model.tickets()[2]
    recorder(grid).drawn.clear()
    model.set_tickets([changed(t, status=ItemStatus.done) if t.key == ticket.key else t for t in model.tickets()])
    qtbot.waitUntil(lambda: bool(recorder(grid).drawn))
    assert recorder(grid).drawn == [ticket.key]
    assert grid.page_cards() == before, "an unrelated card's change moves no card"


def test_a_card_that_grows_pushes_the_card_below_it_down(grid: TicketGrid, qtbot: QtBot) -> None:
    model = grid.ticket_model()
    tickets_now = model.tickets()
    columns = len({rect.left() for _key, rect in grid.page_cards()})
    grown_ticket, below = tickets_now[0], tickets_now[columns]
    assert grid.visual_rect(below.key).left() == grid.visual_rect(grown_ticket.key).left()
    before = grid.visual_rect(below.key).top()
    extra = [item(grown_ticket.order.id, f"Side {n}", "grill", changed=True) for n in range(3)]
    grown = Ticket(
        grown_ticket.order.model_copy(update={"order_items": [*grown_ticket.order.order_items, *extra]}), "grill"
    )
    model.set_tickets([grown, *tickets_now[1:]])
    qtbot.waitUntil(lambda: not grid.visual_rect(below.key).isEmpty() or not grid.layout_pending())
    assert grid.visual_rect(grown.key).height() == grid.delegate.layout_for(grown).height
    moved = grid.visual_rect(below.key)
    assert moved.isEmpty() or moved.top() > before or moved.left() != grid.visual_rect(grown.key).left()
    whole_cards_only(grid)


def every_page(view: TicketGrid) -> list[list[tuple[str, QRect]]]:
    pages = []
    for page in range(view.page_count()):
        view.set_page(page)
        pages.append(view.page_cards())
    return pages


def test_after_any_run_of_arrivals_departures_and_resized_cards_the_pages_are_a_fresh_layout_s(
    qtbot: QtBot,
) -> None:
    """A layout measures only the rows the model says changed (issue 15): whatever the model did between two
    layouts (several arrivals, departures, cards growing or shrinking, a re-sort), the pages are the ones a grid
    laying out the same tickets from scratch shows."""
    rng = random.Random(15)
    pool = {t.key: t for n in range(120) for t in tickets(1, items=1 + n % 5, first=n)}
    number = {key: int(t.order.number) for key, t in pool.items()}
    shown = sorted(rng.sample(list(pool), 40), key=number.__getitem__)
    view = make_grid(qtbot, (1600, 900), [pool[k] for k in shown])
    for step in range(80):
        rows = [pool[k] for k in shown]
        for _ in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.3 and rows:  # a ticket leaves
                rows.pop(rng.randrange(len(rows)))
            elif kind < 0.6:  # one arrives, in its place (oldest first)
                key = rng.choice([k for k in pool if k not in {t.key for t in rows}])
                rows.append(pool[key])
                rows.sort(key=lambda t: number[t.key])
            elif kind < 0.95 and rows:  # a card grows or shrinks (items added or voided)
                at = rng.randrange(len(rows))
                dishes = tickets(1, items=rng.randint(1, 5), first=number[rows[at].key])[0].order.order_items
                items = [i.model_copy(update={"order_id": rows[at].order.id}) for i in dishes]
                rows[at] = Ticket(rows[at].order.model_copy(update={"order_items": items}), "grill")
            elif len(rows) > 1:  # a rush: one ticket to the front (the model re-sorts)
                rows.insert(0, rows.pop(rng.randrange(1, len(rows))))
            view.ticket_model().set_tickets(rows)
        for ticket in rows:
            pool[ticket.key] = ticket
        shown = [t.key for t in rows]
        if rng.random() < 0.7:  # else the edits pile up until the next layout
            view.relayout()
            fresh = make_grid(qtbot, (1600, 900), rows)
            assert every_page(view) == every_page(fresh), step
            fresh.close()


def test_a_ticket_arriving_on_a_later_page_repaints_no_card(grid: TicketGrid, qtbot: QtBot) -> None:
    model = grid.ticket_model()
    before, hidden = grid.page_cards(), grid.hidden_count()
    grid.repaint_pending()
    recorder(grid).drawn.clear()
    model.set_tickets([*model.tickets(), *tickets(1, first=500)])
    grid.repaint_pending()
    assert recorder(grid).drawn == [] and grid.page_cards() == before
    assert grid.hidden_count() == hidden + 1 and f"+{hidden + 1} more" in grid.page_bar.label.text()
    # ...and one leaving from the page shown moves only the cards after it.
    recorder(grid).drawn.clear()
    keys = grid.visible_keys()
    model.set_tickets([t for t in model.tickets() if t.key != keys[-3]])
    grid.repaint_pending()
    assert keys[0] not in recorder(grid).drawn and set(recorder(grid).drawn) <= set(grid.visible_keys())


def test_a_ticket_taller_than_the_page_continues_in_the_next_column(qtbot: QtBot) -> None:
    long = Ticket(order("77", *[("Burger", "grill")] * 14, age_s=900), "grill")
    view = make_grid(qtbot, (1366, 700), [*tickets(2), long, *tickets(2, first=10)])
    view.show_ticket(long.key)
    parts = [rect for key, rect in view.page_cards() if key == long.key]
    assert len(parts) >= 2, "in two columns"
    assert all(view.viewport().rect().contains(rect) for _key, rect in view.page_cards())
    assert len({r.left() for r in parts}) == len(parts)
    # Every item can still be tapped, on whichever column it landed.
    for block in view.delegate.layout_for(long).items:
        point = view.point_of(long.key, block.item.id)
        assert view.target_at(point) is not None and view.target_at(point)[1].item_id == block.item.id  # type: ignore[index]
    assert view.target_at(view.point_of(long.key)) is not None  # the BUMP zone, at the foot of the last part


def test_the_empty_grid_says_so(qtbot: QtBot) -> None:
    view = make_grid(qtbot, (800, 600), [])
    assert view.page_bar.label.text() == "page 1/1" and view.page_count() == 1
    image = view.viewport().grab().toImage()
    assert image.width() > 0 and view.empty_text == "No open tickets"


# ---------------------------------------------------------------- scroll mode (config `layout: "scroll"`)


def test_scroll_mode_scrolls_one_masonry_of_every_card(qtbot: QtBot) -> None:
    view = TicketGrid(TicketModel(), RecordingDelegate(), scroll=True)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    shown = tickets(30)
    view.ticket_model().set_tickets(shown, announce=False)
    view.show()
    qtbot.waitExposed(view)
    view.relayout()
    assert view.scrolling() and view.scroll_bar.isVisible() and view.scroll_bar.maximum() > 0
    first = view.visible_keys()
    assert first[0] == shown[0].key and view.hidden_count() > 0
    assert view.page_bar.label.text() == f"+{view.hidden_count()} more below"
    view.page_by(1)
    assert view.scroll_offset() > 0 and view.visible_keys()[0] != first[0]
    assert "above" in view.page_bar.label.text()
    # A vertical drag scrolls with the finger and taps nothing.
    taps: list[object] = []
    view.action_tapped.connect(taps.append)
    start = view.point_of(view.visible_keys()[0])  # may scroll a little, to show that card whole
    offset = view.scroll_offset()
    swipe(view.viewport(), start, start - QPoint(0, 120))
    assert view.scroll_offset() > offset and taps == []
    # The last ticket is scrolled into view, whole, and taps land on it.
    last = shown[-1]
    point = view.point_of(last.key)
    assert view.viewport().rect().contains(view.visual_rect(last.key))
    assert view.target_at(point) == (last.key, view.target_at(point)[1])  # type: ignore[index]
    # A ticket leaving above keeps the view where it is (clamped at the end), never back to the top.
    offset = view.scroll_offset()
    view.ticket_model().set_tickets(shown[1:])
    view.relayout()
    assert view.scroll_offset() == min(offset, view.scroll_bar.maximum()) > 0


def test_the_layout_setting_is_checked(tmp_path: Path) -> None:
    from kds_app.startup.config import ConfigError

    assert AppConfig().layout == "paged" and AppConfig(layout="scroll").layout == "scroll"
    with pytest.raises(ConfigError, match="layout"):
        AppConfig(layout="grid")  # type: ignore[arg-type]


# ---------------------------------------------------------------- taps


def test_a_tap_acts_only_where_it_was_pressed_and_a_quick_second_tap_counts(grid: TicketGrid, qtbot: QtBot) -> None:
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent

    actions: list[str] = []
    items: list[object] = []
    grid.action_tapped.connect(actions.append)
    grid.item_tapped.connect(lambda key, item_id: items.append((key, item_id)))
    ticket = grid.ticket_model().tickets()[0]
    first, second = (grid.point_of(ticket.key, i.id) for i in ticket.order.order_items[:2])
    left = Qt.MouseButton.LeftButton
    QTest.mousePress(grid.viewport(), left, Qt.KeyboardModifier.NoModifier, first)
    QTest.mouseRelease(grid.viewport(), left, Qt.KeyboardModifier.NoModifier, second)  # slid onto the next item
    assert items == []
    bump = grid.point_of(ticket.key)
    QTest.mouseClick(grid.viewport(), left, Qt.KeyboardModifier.NoModifier, bump)
    # Qt makes the second of two quick taps a double-click: for a card it is a second tap (the bump's confirm).
    for kind in (QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease):
        event = QMouseEvent(
            kind,
            QPointF(bump),
            QPointF(grid.viewport().mapToGlobal(bump)),
            left,
            Qt.MouseButton.NoButton if kind is QEvent.Type.MouseButtonRelease else left,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(grid.viewport(), event)
    assert actions == [ticket.key, ticket.key]


def test_a_ticket_taller_than_every_column_is_cut_with_more_below_never_silently(qtbot: QtBot) -> None:
    long = Ticket(order("88", *[("Burger", "grill")] * 16, age_s=900), "grill")
    view = make_grid(qtbot, (420, 600), [long, *tickets(2)])  # one column
    cards = view.page_cards()
    assert [key for key, _rect in cards] == [long.key], "alone on its page"
    assert view.viewport().rect().contains(cards[0][1])
    piece = view._placement[0]
    assert piece.clipped and piece.src_bottom < view.delegate.layout_for(long).height
    band = QPoint(cards[0][1].center().x(), cards[0][1].bottom() - 10)
    assert view.target_at(band) is None, "the MORE BELOW band taps nothing"
    with pytest.raises(KeyError):
        view.point_of(long.key)  # its BUMP is below the cut (the bump bar still bumps it)
    view.page_by(1)
    assert view.visible_keys() == [t.key for t in view.ticket_model().tickets()[1:]]


def test_an_item_tap_right_after_the_cards_moved_under_the_finger_strikes_nothing(qtbot: QtBot) -> None:
    """Issue 16: a ticket leaves, the cards re-pack under a finger already on its way; that tap must not strike
    (or un-strike) whatever item is now there. A moment later the same tap strikes it. When the cards did not
    move (a ticket left from a later page), an item tap strikes at once; BUMP (two taps anyway) is never held."""
    from kds_app.cards.ticket_grid import TAP_GUARD_S

    view = make_grid(qtbot, (1366, 700), tickets(20, items=2))
    now = [time.monotonic() + 10 * TAP_GUARD_S]  # long after the first layout (laid out on the real clock)
    view.clock = lambda: now[0]
    struck: list[tuple[str, object]] = []
    view.item_tapped.connect(lambda key, item_id: struck.append((key, item_id)))
    model = view.ticket_model()

    model.set_tickets(model.tickets()[:-1], announce=False)  # a ticket on the last page leaves: nothing moves here
    view.relayout()
    oldest = model.tickets()[0]
    finger_tap(view.viewport(), view.point_of(oldest.key, oldest.order.order_items[0].id))
    assert struck == [(oldest.key, oldest.order.order_items[0].id)], "the cards did not move: it strikes at once"

    second = model.tickets()[1]
    model.set_tickets(model.tickets()[1:], announce=False)  # the oldest is bumped on another screen
    view.relayout()
    assert view.visual_rect(second.key).topLeft() == QPoint(MARGIN, MARGIN), "the next card took its place"
    target = view.point_of(second.key, second.order.order_items[0].id)
    finger_tap(view.viewport(), target)
    assert len(struck) == 1, "the cards had just moved under the finger: no strike"

    now[0] += TAP_GUARD_S + 0.01
    finger_tap(view.viewport(), target)
    assert struck[-1] == (second.key, second.order.order_items[0].id), "a moment later the tap strikes"

    bumps: list[str] = []
    view.action_tapped.connect(bumps.append)
    model.set_tickets(model.tickets()[1:], announce=False)
    view.relayout()
    moved_up = model.tickets()[0].key
    finger_tap(view.viewport(), view.point_of(moved_up))
    assert bumps == [moved_up], "BUMP is not held back: it needs a second tap anyway"


def test_a_fired_item_s_countdown_row_goes_on_the_tick_that_fires_it(qtbot: QtBot) -> None:
    """Fire timing (issue 19 item 1): the fries fire 30 s in. Until then their card has a FIRES IN row; the tick
    that fires them takes it out and the card under it moves up, with no other change to the ticket."""
    now = [NOW.timestamp()]
    model = TicketModel(clock=lambda: now[0])
    first = order("1", ("Ribeye", "grill"), ("Fries", "grill"), age_s=0)
    fries = first.order_items[1]
    timed = Ticket(first, "grill", {fries.id: NOW + timedelta(seconds=30)})
    below = Ticket(order("2", age_s=-1), "grill")
    view = TicketGrid(model, RecordingDelegate())
    qtbot.addWidget(view)
    view.resize(420, 1000)  # one column: the second card sits under the first
    model.set_tickets([timed, below], announce=False)
    view.show()
    qtbot.waitExposed(view)
    view.relayout()

    def countdown_row() -> QRect | None:
        return next(b.countdown for b in view.delegate.layout_for(timed).items if b.item.id == fries.id)

    row = countdown_row()
    assert row is not None and model.card(0).waits
    tall, under = view.visual_rect(timed.key), view.visual_rect(below.key)
    assert under.top() > tall.bottom()
    now[0] += 29
    model.tick()
    assert countdown_row() is not None, "still waiting: the row stays"
    now[0] += 2
    model.tick()  # the tick that fires the fries
    assert countdown_row() is None
    qtbot.waitUntil(lambda: view.visual_rect(timed.key).height() < tall.height())
    assert view.visual_rect(below.key).top() < under.top(), "the card under it moved up at once"
    assert tall.height() - view.visual_rect(timed.key).height() >= row.height()
