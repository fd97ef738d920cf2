"""The card grid: tickets as cards packed into columns, a page at a time, oldest first, and the taps on them.

**Layout rule (masonry).** Cards are placed in ticket order (oldest first), each into the column whose bottom is
highest (the shortest column; the leftmost of equals), so the first cards of a page run across the top from the
left and the oldest is always top left. A page holds whole cards only: the page ends at the first card that fits
in no column, and the next page starts with that card, so the order never skips. A card taller than a page
takes whole empty columns: it runs down one column and continues at the top of the next, under a "cont." band
(with a "continues" band at the foot of the part before); a page that has cards already and too few empty
columns for it ends, and the tall card starts the next one. Only a card taller than all the columns of an empty
page together is cut, and then its last column says "MORE BELOW" (the bump bar still bumps it).

**Pages.** The page bar under the cards always says where you are and how many tickets are on later pages
("page 2/5 · +23 more"); big PREV / NEXT buttons, a horizontal finger swipe across the cards and the bump bar's
page keys turn pages. Tickets arriving or leaving keep you on the page you are on (clamped to the last page when
the pages shrink): the view never jumps back to page 1 by itself.

**Cost.** The layout works from the cards' cached heights (`TicketDelegate.card_height`): after a change only
the pages from the first changed ticket on are worked out again (integers, no painting), and only the cards of
the page shown that moved, appeared, vanished or changed are repainted. A ticket arriving on a later page
repaints nothing but the page bar's count; a struck item repaints its own card.

A tap acts only when press and release land on the same target (an item, a control or a card's action zone), so
a finger sliding across the glass, or a splash of water, does not strike or bump anything; a finger that moved
more than a few millimetres (a swipe) never taps. For a moment after the cards under a finger moved (a ticket
left or grew above, the page re-flowed or turned), a tap there does not strike or un-strike an item: the finger
was aimed at what was there before (`TAP_GUARD_S`). BUMP and SERVE take two taps anyway, and are not held back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from uuid import UUID

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..media import theme
from ..media.language import translate
from ..viewmodel.ticket_model import Role, Ticket, TicketModel
from .card_layout import Hit
from .masonry import FOOT_H, GAP, MARGIN, Piece, first_difference, page_of, paginate, place, segments
from .ticket_delegate import TicketDelegate

DRAG_SLOP_PX = 30  # a finger that moved further than this between press and release did not tap
SWIPE_PX = 90  # a mostly horizontal drag at least this long turns the page
SCROLL_ROOM = 1 << 28  # scroll mode: one page as tall as all the cards
# An item tap this soon after the cards under it moved is ignored: a finger already on its way lands on whatever
# took the old card's place (issue 16: "a tap aimed at SERVE un-struck an item"). Long enough for a reaching
# hand (a quarter to half a second), short enough that a cook's next deliberate tap is never lost.
TAP_GUARD_S = 0.6
PAGE_BUTTON_MIN = QSize(140, 48)  # 12 mm: the page bar takes as little height from the cards as a finger allows
NARROW_BUTTON_MIN = QSize(72, 48)  # half a 1366-pixel screen (a split screen's pane): still a finger's width

_SIZE_ROLES = (int(Role.TICKET), int(Qt.ItemDataRole.DisplayRole))  # the roles whose change may resize a card


class PageBar(QFrame):
    """Under the cards: ◀ PREV · "page 2/5 · +23 more" · NEXT ▶. Always there, so nothing above it moves."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("PageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(MARGIN, 3, MARGIN, 3)
        layout.setSpacing(8)
        self.previous = QPushButton(translate("PageBar", "◀  PREV"))
        self.next = QPushButton(translate("PageBar", "NEXT  ▶"))
        self.label = QLabel(translate("PageBar", "page {page}/{pages}").format(page=1, pages=1))
        self.label.setObjectName("PageLabel")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Never cut: "page 2/5 · +23 more" is what the cook must always see; the strips beside it give way.
        self.label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        for button in (self.previous, self.next):
            button.setObjectName("PageButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the bump bar's keys stay with the cards
            button.setMinimumSize(PAGE_BUTTON_MIN)  # whatever the style sheet says
        layout.addWidget(self.previous)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.next)
        self._button_min = PAGE_BUTTON_MIN

    def narrow(self) -> None:
        """Half a screen wide (a split screen's pane, issue 19, item 5): ◀ and ▶ for PREV and NEXT, and each button
        only as wide as its word, so two bars side by side fit a 1366-pixel screen with their page counts whole."""
        self._button_min = NARROW_BUTTON_MIN
        self.previous.setText("◀")
        self.next.setText("▶")
        self.setProperty("narrow", True)  # the style sheet's narrower buttons
        for button in (self.previous, self.next):
            button.setMinimumSize(NARROW_BUTTON_MIN)

    def add_beside(self, widget: QWidget) -> None:
        """Put a read-only strip (the day's prep times) between the page count and NEXT: one bar at the foot of
        the screen instead of two, so the cards get that height."""
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        layout.setStretchFactor(self.label, 0)
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, widget.sizePolicy().verticalPolicy())
        layout.insertWidget(layout.indexOf(self.next), widget, 1)

    def showEvent(self, event: QShowEvent) -> None:
        if self._button_min == NARROW_BUTTON_MIN:  # never narrower than its word ("MOVE" cut to "IOV" at 1366)
            for button in self.findChildren(QPushButton):
                button.ensurePolished()
                button.setMinimumWidth(button.sizeHint().width())
        super().showEvent(event)

    def add_name(self, label: QLabel) -> None:
        """A split screen's pane name ("GRILL", "NEW"), first in the bar: which pane these pages are."""
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        layout.insertWidget(0, label)

    def add_button(self, button: QPushButton) -> None:
        """A button just before NEXT (expo's COMPACT), at the page buttons' size."""
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        button.setMinimumSize(self._button_min)
        layout.insertWidget(layout.indexOf(self.next), button)


class _Canvas(QWidget):
    """Where the cards are painted and touched: the grid's viewport."""

    def __init__(self, grid: TicketGrid) -> None:
        super().__init__(grid)
        self.setObjectName("TicketCanvas")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel painted here: no erase first
        self._grid = grid
        self._press_pos: QPoint | None = None
        self._press_offset = 0
        self._pressed: tuple[str, Hit] | None = None
        self.dirty = QRegion()  # asked to repaint and not yet painted (`TicketGrid.repaint_pending`)

    def invalidate(self, region: QRegion | QRect) -> None:
        self.dirty += region
        self.update(region)

    def paintEvent(self, event: QPaintEvent) -> None:
        grid = self._grid
        if grid.layout_pending():
            grid.relayout()
        self.dirty -= event.region()
        painter = QPainter(self)
        try:
            grid.paint_cards(painter, event.region())
        finally:
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._grid.reflow()

    # ------------------------------------------------------------ touch

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_pos = event.position().toPoint()
            self._press_offset = self._grid.scroll_offset()
            self._pressed = self._grid.target_at(self._press_pos)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        start = self._press_pos
        if start is None:
            return
        moved = event.position().toPoint() - start
        if moved.manhattanLength() > DRAG_SLOP_PX:
            self._pressed = None  # a drag (a swipe) is never a tap, wherever it ends
            if self._grid.scrolling() and abs(moved.y()) > abs(moved.x()):
                self._grid.set_scroll_offset(self._press_offset - moved.y())  # scroll mode: the cards follow
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        start, self._press_pos = self._press_pos, None
        pressed, self._pressed = self._pressed, None
        pos = event.position().toPoint()
        if start is not None:
            moved = pos - start
            if abs(moved.x()) >= SWIPE_PX and abs(moved.x()) > 2 * abs(moved.y()):
                self._grid.page_by(1 if moved.x() < 0 else -1)  # finger to the left: the next page
                return
            if moved.manhattanLength() > DRAG_SLOP_PX:
                return
        if pressed is None:
            return
        released = self._grid.target_at(pos)
        if released != pressed:
            return
        if released[1].item_id is not None and self._grid.moved_under(pos):
            return  # the cards under the finger just moved: this strike was meant for what was there before
        self._grid.emit_tap(*released)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Qt turns a quick second tap into a double-click; for the cards it is just another tap.
        self.mousePressEvent(event)


class TicketGrid(QWidget):
    action_tapped = Signal(str)  # ticket key: a tap on the BUMP / SERVE zone
    item_tapped = Signal(str, object)  # ticket key, item id
    control_tapped = Signal(str, str)  # ticket key, control (card_rules.RUSH, card_rules.FIRE)
    card_tapped = Signal(str)  # ticket key: a tap on the card where nothing on it acts (its header)
    page_changed = Signal(int)  # the page shown (0-based)

    def __init__(
        self, model: TicketModel, delegate: TicketDelegate, parent: QWidget | None = None, *, scroll: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("TicketGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.delegate = delegate
        delegate.countdown_items = model.countdown_items  # a fired item's countdown row goes on the tick
        self.empty_text = translate("PageBar", "No open tickets")
        self._model = model
        self._canvas = _Canvas(self)
        self.page_bar = PageBar()
        self._scroll = scroll
        self._offset = 0  # scroll mode: the content y at the canvas's top (always 0 when paged)
        self.scroll_bar = QScrollBar(Qt.Orientation.Vertical)
        self.scroll_bar.setVisible(scroll)
        self.scroll_bar.valueChanged.connect(self.set_scroll_offset)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._canvas, 1)
        row.addWidget(self.scroll_bar)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(row, 1)
        column.addWidget(self.page_bar)
        self.page_bar.previous.clicked.connect(lambda: self.page_by(-1))
        self.page_bar.next.clicked.connect(lambda: self.page_by(1))

        self._tickets: list[Ticket] = []
        self._entries: list[tuple[str, int]] = []  # (key, card height) per row, as last laid out
        # The model's row edits since the last layout, (+1 inserted / -1 removed / 0 changed, first, last), so a
        # layout measures only those rows instead of asking every row's height; None: ask every row.
        self._edits: list[tuple[int, int, int]] | None = None
        self._pages: list[int] = [0]  # first row of each page
        self._page = 0
        self._placement: list[Piece] = []  # the page shown (scroll mode: every card), in content coordinates
        self._shown: list[Piece] | None = None  # the pieces in view, in canvas coordinates (cached)
        self._columns = 1
        self._page_h = 0  # the cards' room, top to bottom
        self._geometry: tuple[int, int, int] = (0, 0, 0)  # (columns, card width, page height) last laid out
        self._changed: set[str] = set()  # keys whose card changed since the last layout (repainted in place)
        self._pending = False
        self._everything = True  # the next layout starts from the first ticket and repaints the whole page
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.relayout)
        self.clock: Callable[[], float] = time.monotonic  # the tap guard's (tests set their own)
        self._moved = QRegion()  # where cards moved, came or went (canvas coordinates) ...
        self._moved_at = float("-inf")  # ...and when, last

        model.rowsInserted.connect(lambda _parent, first, last: self._edit(1, first, last))
        model.rowsRemoved.connect(lambda _parent, first, last: self._edit(-1, first, last))
        model.modelReset.connect(self._rows_moved)
        model.layoutChanged.connect(self._rows_moved)
        model.dataChanged.connect(self._data_changed)
        self._update_bar()

    def ticket_model(self) -> TicketModel:
        return self._model

    def viewport(self) -> QWidget:
        """The widget the cards are painted on; `target_at`, `point_of` and `visual_rect` are in its coordinates."""
        return self._canvas

    # ------------------------------------------------------------ pages

    def scrolling(self) -> bool:
        """Scroll mode (`layout: "scroll"` in the config): one long masonry of every card, scrolled."""
        return self._scroll

    def page(self) -> int:
        """The page shown, 0-based (scroll mode: the screenful the view is in)."""
        if self._scroll:
            return -(-self._offset // self._step())
        return self._page

    def page_count(self) -> int:
        self._ensure_layout()
        if self._scroll:
            return 1 + -(-self.scroll_bar.maximum() // self._step())
        return len(self._pages)

    def hidden_count(self) -> int:
        """Tickets on later pages, or (scroll mode) wholly below the view: the page bar's "+N more"."""
        self._ensure_layout()
        if self._scroll:
            bottom = self._offset + self._canvas.height()
            return sum(1 for p in self._placement if p.rect.top() >= bottom)
        return len(self._entries) - self._page_end()

    def _step(self) -> int:
        return max(1, self._canvas.height() - 2 * MARGIN)

    def scroll_offset(self) -> int:
        return self._offset

    def set_scroll_offset(self, offset: int) -> None:
        """Scroll mode: show the cards from content y `offset` (clamped)."""
        offset = max(0, min(int(offset), self.scroll_bar.maximum())) if self._scroll else 0
        if offset == self._offset:
            return
        self._offset = offset
        self._shown = None
        self._note_moved(QRegion(self._canvas.rect()))
        if self.scroll_bar.value() != offset:
            self.scroll_bar.setValue(offset)
        self._canvas.invalidate(self._canvas.rect())
        self._update_bar()

    def set_page(self, page: int) -> None:
        self._ensure_layout()
        if self._scroll:
            before = self.page()
            self.set_scroll_offset(page * self._step())
            if self.page() != before:
                self.page_changed.emit(self.page())
            return
        page = max(0, min(page, len(self._pages) - 1))
        if page == self._page:
            return
        self._page = page
        self._show_page(everything=True)
        self.page_changed.emit(page)

    def page_by(self, delta: int) -> None:
        if self._scroll:
            self._ensure_layout()
            self.set_scroll_offset(self._offset + delta * self._step())
            return
        self.set_page(self._page + delta)

    def show_ticket(self, key: str) -> bool:
        """Turn to the page with this ticket on it; False if it is not listed."""
        self._ensure_layout()
        row = self._model.row_of(key)
        if row is None:
            return False
        if self._scroll:  # scrolled just enough to show the whole card (its top, if it is taller than the view)
            rect = next(p.rect for p in self._placement if p.key == key)
            top, bottom, view = rect.top() - MARGIN, rect.bottom() + 1 + MARGIN, self._canvas.height()
            if top < self._offset or bottom - top > view:
                self.set_scroll_offset(top)
            elif bottom > self._offset + view:
                self.set_scroll_offset(bottom - view)
            return True
        self.set_page(self._page_of(row))
        return True

    def visible_keys(self) -> list[str]:
        """The keys of the tickets on the page shown, oldest first (what the bump bar's numbers count)."""
        self._ensure_layout()
        return list(dict.fromkeys(piece.key for piece in self._shown_pieces()))

    def page_cards(self) -> list[tuple[str, QRect]]:
        """Every card (or part of a card, for one that continues over columns) on the page shown, with its
        rectangle on the canvas."""
        self._ensure_layout()
        return [(piece.key, QRect(piece.rect)) for piece in self._shown_pieces()]

    def visual_rect(self, key: str) -> QRect:
        """The card's rectangle on the canvas (its first column if it continues), or an empty rectangle if it is
        not on the page shown."""
        self._ensure_layout()
        for piece in self._shown_pieces():
            if piece.key == key:
                return QRect(piece.rect)
        return QRect()

    # ------------------------------------------------------------ hit testing

    def target_at(self, pos: QPoint) -> tuple[str, Hit] | None:
        """The ticket key and what on it is under `pos` (canvas coordinates)."""
        self._ensure_layout()
        for piece in self._shown_pieces():
            at = piece.card_point(pos)
            if at is not None:
                # The card itself where no part of it acts (the header): MOVE's "tap a ticket" takes it.
                return piece.key, self.delegate.layout_for(self._tickets[piece.row]).hit(at) or Hit()
        return None

    def point_of(self, key: str, item_id: UUID | None = None, *, control: str | None = None) -> QPoint:
        """Canvas position of a ticket's action zone, one of its items or controls (tests, the bump bar); turns to
        the ticket's page first."""
        if not self.show_ticket(key):
            raise KeyError(key)
        row = self._model.row_of(key)
        assert row is not None
        layout = self.delegate.layout_for(self._tickets[row])
        if control is not None:
            found = next((c for c in layout.controls if c.kind == control), None)
            if found is None:
                raise KeyError(control)
            target = found.rect.center()
        elif item_id is None:
            target = layout.action.center()
        else:
            block = next((b for b in layout.items if b.item.id == item_id), None)
            if block is None:
                raise KeyError(item_id)
            target = block.rect.center()
        for piece in self._shown_pieces():
            if piece.key == key:
                at = piece.canvas_point(target)
                if at is not None:
                    return at
        raise KeyError(f"{key}: that part of the card is not on the screen")

    def moved_under(self, pos: QPoint) -> bool:
        """True if the cards at `pos` (canvas coordinates) moved, came or went less than `TAP_GUARD_S` ago."""
        return self.clock() - self._moved_at < TAP_GUARD_S and self._moved.contains(pos)

    def _note_moved(self, region: QRegion) -> None:
        if region.isEmpty():
            return
        now = self.clock()
        recent = now - self._moved_at < TAP_GUARD_S
        self._moved = self._moved.united(region) if recent else QRegion(region)
        self._moved_at = now

    def emit_tap(self, key: str, hit: Hit) -> None:
        if hit.action:
            self.action_tapped.emit(key)
        elif hit.item_id is not None:
            self.item_tapped.emit(key, hit.item_id)
        elif hit.control is not None:
            self.control_tapped.emit(key, hit.control)
        else:
            self.card_tapped.emit(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Without a bump bar map (kds_app.input.bump_bar takes these first when there is one), the page keys still page.
        if event.key() in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.page_by(1 if event.key() == Qt.Key.Key_PageDown else -1)
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------ following the model

    def _rows_moved(self, *_args: object) -> None:
        self._edits = None  # re-sorted or reset: every row's height asked again
        self._schedule()

    def _edit(self, kind: int, first: int, last: int) -> None:
        if self._edits is not None:
            self._edits.append((kind, first, last))
        self._schedule()

    def _data_changed(
        self, top_left: QModelIndex | QPersistentModelIndex, bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        top, bottom = top_left.row(), bottom_right.row()
        resize = not roles or any(int(r) in _SIZE_ROLES for r in roles)
        if resize or self._pending:
            # Which cards: by key, since rows may shift before the layout runs. A card that kept its size is
            # repainted in place; one that grew or shrank moves the cards after it.
            self._changed.update(t.key for t in self._model.tickets()[top:bottom + 1])
            if resize:
                self._edit(0, top, bottom)
            else:
                self._schedule()
            return
        for piece in self._shown_pieces():  # the age tick, an armed zone, the selection: same size, same place
            if top <= piece.row <= bottom:
                self._canvas.invalidate(piece.rect)

    def _shown_pieces(self) -> list[Piece]:
        """The pieces in view, in canvas coordinates: the page's own when paged, those the scroll shows else."""
        if not self._scroll:
            return self._placement
        if self._shown is None:
            top, bottom = self._offset, self._offset + self._canvas.height()
            self._shown = [replace(p, rect=p.rect.translated(0, -top)) for p in self._placement
                           if p.rect.bottom() >= top and p.rect.top() < bottom]
        return self._shown

    def _schedule(self) -> None:
        if not self._pending:
            self._pending = True
            self._timer.start()

    def layout_pending(self) -> bool:
        return self._pending

    def _ensure_layout(self) -> None:
        if self._pending:
            self.relayout()

    def reflow(self) -> None:
        """The canvas changed size: columns and page height from the width and height now, cards re-measured if
        their width changes (`TicketDelegate.fit_width`); laid out before the next paint."""
        available = self._canvas.width() - 2 * MARGIN
        self.delegate.fit_width(available, GAP)
        self._columns = max(1, (available + GAP) // (self.delegate.card_width + GAP))
        self._page_h = SCROLL_ROOM if self._scroll else max(1, self._canvas.height() - 2 * MARGIN)
        self._shown = None
        self._schedule()

    def cards_changed(self) -> None:
        """Every card may have changed size (the delegate dropped its layouts: an 86, the font): laid out again
        from the first ticket, and the page repainted, before the next paint."""
        self._everything = True
        self._schedule()

    def relayout(self, *, remeasure: bool = False) -> None:
        """Lay out now whatever changed (tests, screenshots; otherwise it happens by itself before the next paint).
        `remeasure`: every card's height is asked again (the delegate's layouts were dropped: an 86, a font)."""
        self._timer.stop()
        self._pending = False
        if remeasure:
            self._everything = True
        tickets = self._model.tickets()
        geometry = (self._columns, self.delegate.card_width, self._page_h)
        old_entries, old_tickets = self._entries, self._tickets
        full = self._everything or geometry != self._geometry
        edited = None if full else self._apply_edits(tickets)
        self._edits = []
        if edited is None:
            entries = [(t.key, self.delegate.card_height(t)) for t in tickets]
            first = first_difference(old_entries, entries)
        else:
            entries, first = edited
        self._tickets, self._entries = tickets, entries
        if full:
            # New columns or page height: every page again, keeping in view the ticket that was first on the page.
            anchor = self._pages[self._page] if self._page < len(self._pages) else 0
            anchor_key = old_tickets[anchor].key if anchor < len(old_tickets) else None
            reflowed, self._geometry = geometry != self._geometry, geometry
            self._paginate(0)
            row = self._model.row_of(anchor_key) if anchor_key is not None and reflowed else None
            if row is not None:
                self._page = self._page_of(row)
            everything, self._everything = True, False
        else:
            everything = False
            if first is not None:
                self._paginate(first)
        self._page = max(0, min(self._page, len(self._pages) - 1))
        self._show_page(everything=everything)

    def _apply_edits(self, tickets: list[Ticket]) -> tuple[list[tuple[str, int]], int | None] | None:
        """The rows' (key, height) after the model's edits since the last layout, measuring only the rows inserted
        or changed, and the first row that may differ (no later than the true first: the pages are worked out
        again from there). None when the edits do not add up to the rows now (then every row is asked)."""
        edits = self._edits
        if edits is None:
            return None
        entries = list(self._entries)
        dirty: dict[int, tuple[str, int] | None] = {}  # row -> its entry before (None: inserted)
        first: int | None = None
        for kind, a, b in edits:
            n = b - a + 1
            if kind == 0:
                if b >= len(entries):
                    return None
                for row in range(a, b + 1):
                    dirty.setdefault(row, entries[row])
                continue
            first = a if first is None else min(first, a)
            if kind > 0:
                entries[a:a] = [("", -1)] * n
                dirty = {(r + n if r >= a else r): was for r, was in dirty.items()}
                dirty.update(dict.fromkeys(range(a, b + 1)))
            else:
                if b >= len(entries):
                    return None
                del entries[a:b + 1]
                dirty = {(r - n if r > b else r): was for r, was in dirty.items() if not a <= r <= b}
        if len(entries) != len(tickets):
            return None
        height = self.delegate.card_height
        for row, was in dirty.items():
            ticket = tickets[row]
            entry = entries[row] = (ticket.key, height(ticket))
            if entry != was:
                first = row if first is None else min(first, row)
        if entries and (entries[0][0] != tickets[0].key or entries[-1][0] != tickets[-1].key):
            return None  # an edit not signalled (never seen): ask every row rather than lay out stale heights
        return entries, first

    def _paginate(self, from_row: int) -> None:
        self._pages = paginate(self._pages, from_row, len(self._entries), lambda start: self._place(start)[1])

    def _page_of(self, row: int) -> int:
        return page_of(self._pages, row)

    def _page_end(self) -> int:
        return self._pages[self._page + 1] if self._page + 1 < len(self._pages) else len(self._entries)

    def _place(self, start: int, *, build: bool = False) -> tuple[list[Piece], int]:
        """The cards of the page that starts at row `start` (when `build`), and the first row of the next page."""
        room = self._page_h
        return place(
            self._entries, start, columns=self._columns, width=self.delegate.card_width, room=room,
            segments_of=lambda row: segments(self.delegate.layout_for(self._tickets[row]), room), build=build,
        )

    def _show_page(self, *, everything: bool = False) -> None:
        """Place the page shown; repaint only the cards that moved, came, went or changed."""
        old = self._placement
        start = self._pages[self._page] if self._pages else 0
        self._placement, _end = self._place(start, build=True) if self._entries else ([], 0)
        self._shown = None
        changed, self._changed = self._changed, set()
        if self._scroll:
            content = max((p.rect.bottom() + 1 + MARGIN for p in self._placement), default=0)
            self.scroll_bar.setRange(0, max(0, content - self._canvas.height()))
            self.scroll_bar.setPageStep(self._step())
            self.scroll_bar.setSingleStep(40)
            self._offset = min(self._offset, self.scroll_bar.maximum())  # the view never jumps but at the end
        before = {p.shape() for p in old}
        after = {p.shape() for p in self._placement}
        moved = QRegion()  # where a finger would now land on something else
        for piece in old:
            if piece.shape() not in after:
                moved += piece.rect.translated(0, -self._offset)
        for piece in self._placement:
            if piece.shape() not in before:
                moved += piece.rect.translated(0, -self._offset)
        self._note_moved(moved & QRegion(self._canvas.rect()))
        if everything:
            self._canvas.invalidate(self._canvas.rect())
        else:
            region = QRegion(moved)
            for piece in self._placement:
                if piece.key in changed:
                    region += piece.rect.translated(0, -self._offset)
            region &= QRegion(self._canvas.rect())
            if bool(old) != bool(self._placement):  # the "No open tickets" text comes or goes
                region = QRegion(self._canvas.rect())
            if not region.isEmpty():
                self._canvas.invalidate(region)
        self._update_bar()

    def _update_bar(self) -> None:
        if self._scroll:
            top = self._offset
            above = sum(1 for p in self._placement if p.rect.bottom() < top)
            below = sum(1 for p in self._placement if p.rect.top() >= top + self._canvas.height())
            text = translate("PageBar", "{n} above · ").format(n=above) if above else ""
            if below:
                text += translate("PageBar", "+{n} more below").format(n=below)
            else:
                text += translate("PageBar", "all shown")
            self.page_bar.label.setText(text)
            self.page_bar.previous.setEnabled(top > 0)
            self.page_bar.next.setEnabled(top < self.scroll_bar.maximum())
            return
        pages, page = len(self._pages), self._page
        more = len(self._entries) - self._page_end()
        text = translate("PageBar", "page {page}/{pages}").format(page=page + 1, pages=pages)
        if more:
            text += translate("PageBar", " · +{n} more").format(n=more)
        self.page_bar.label.setText(text)
        self.page_bar.previous.setEnabled(page > 0)
        self.page_bar.next.setEnabled(page + 1 < pages)

    def repaint_pending(self) -> None:
        """Lay out and paint now what is waiting to be painted, synchronously (benchmarks, screenshots)."""
        self._ensure_layout()
        region, self._canvas.dirty = self._canvas.dirty, QRegion()
        if not region.isEmpty():
            self._canvas.repaint(region)

    # ------------------------------------------------------------ painting

    def paint_cards(self, painter: QPainter, region: QRegion) -> None:
        painter.fillRect(region.boundingRect(), theme.BACKGROUND)
        if not self._placement:
            if self._model.rowCount() == 0:
                painter.setPen(theme.DONE_TEXT)
                font = painter.font()
                font.setPointSize(max(font.pointSize(), 24))
                painter.setFont(font)
                painter.drawText(self._canvas.rect(), int(Qt.AlignmentFlag.AlignCenter), self.empty_text)
            return
        for piece in self._shown_pieces():
            if region.intersects(piece.rect):
                self._paint_piece(painter, piece)

    def _paint_piece(self, painter: QPainter, piece: Piece) -> None:
        card = self._model.card(piece.row)
        if piece.whole:
            self.delegate.paint_card(painter, piece.rect.topLeft(), card)
            return
        rect = piece.rect
        painter.save()
        painter.setClipRect(QRect(rect.left(), rect.top() + piece.head, rect.width(), piece.src_bottom - piece.src_top))
        self.delegate.paint_card(painter, QPoint(rect.left(), rect.top() + piece.head - piece.src_top), card)
        painter.restore()
        ticket = card.ticket
        fill, ink, _age = self.delegate.age_look(
            ticket, self.delegate.layout_for(ticket), card.age_s, waiting=card.fires_in_s is not None
        )
        fonts = self.delegate.fonts
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if piece.head:
            band = QRect(rect.left(), rect.top(), rect.width(), piece.head - 4)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(band.adjusted(4, 2, -4, 0), 8, 8)
            painter.setPen(ink)
            painter.setFont(fonts.station)
            left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            painter.drawText(band.adjusted(16, 0, -16, 0), left, self._cont_text(piece, ticket))
        if piece.foot or piece.clipped:
            text = translate("Card", "continues ▶") if piece.foot else translate("Card", "▼ MORE BELOW ▼")
            band = QRect(rect.left(), rect.bottom() - FOOT_H + 1, rect.width(), FOOT_H)
            painter.setPen(QPen(theme.CARD_BORDER, 2))
            painter.setBrush(theme.SERVE_WAITING)
            painter.drawRoundedRect(band.adjusted(4, 2, -4, -2), 8, 8)
            painter.setPen(theme.TEXT)
            painter.setFont(fonts.station)
            painter.drawText(band, int(Qt.AlignmentFlag.AlignCenter),
                             QFontMetrics(fonts.station).elidedText(text, Qt.TextElideMode.ElideRight, band.width()))
        painter.restore()


    def _cont_text(self, piece: Piece, ticket: Ticket) -> str:
        """The band over a card's next column: its number, and (expo) the station whose items go on there when
        the column does not start with that station's own header."""
        # the station too where the header names it
        text = translate("Card", "{title} · cont.").format(title=self.delegate.layout_for(ticket).title)
        station = None
        for header in self.delegate.layout_for(ticket).stations:
            if header.rect.top() <= piece.src_top:
                station = None if header.rect.top() == piece.src_top else header.station
        return text if station is None else f"{text} · {station.upper()}"
