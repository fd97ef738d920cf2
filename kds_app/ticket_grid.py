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
more than a few millimetres (a swipe) never taps.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QRegion, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollBar, QVBoxLayout, QWidget

from . import theme
from .card_layout import Hit
from .ticket_delegate import TicketDelegate
from .ticket_model import Role, Ticket, TicketModel

GAP = 10  # between cards, across and down
MARGIN = 4  # around the cards
CONT_H = 44  # the band over the next column of a card that continues: "#123 · cont."
FOOT_H = 40  # the band under the part of a card that continues in the next column
DRAG_SLOP_PX = 30  # a finger that moved further than this between press and release did not tap
SWIPE_PX = 90  # a mostly horizontal drag at least this long turns the page
SCROLL_ROOM = 1 << 28  # scroll mode: one page as tall as all the cards
PAGE_BUTTON_MIN = QSize(140, 48)  # 12 mm: the page bar takes as little height from the cards as a finger allows

_SIZE_ROLES = (int(Role.TICKET), int(Qt.ItemDataRole.DisplayRole))  # the roles whose change may resize a card


@dataclass(frozen=True)
class Piece:
    """A card (or the part of a card in one column) as placed on the page shown."""

    row: int
    key: str
    rect: QRect  # on the canvas (`TicketGrid.viewport()`)
    src_top: int  # the part of the card shown: card y from src_top to src_bottom
    src_bottom: int
    head: int = 0  # a "cont." band above it (a card continued from the column before)
    foot: int = 0  # a "continues" band below it (it goes on in the next column)
    clipped: bool = False  # cut at the foot of the page: a "MORE BELOW" band over its bottom

    @property
    def whole(self) -> bool:
        return self.src_top == 0 and not self.foot and not self.clipped

    def shape(self) -> tuple[object, ...]:
        """What is drawn where, whatever the row number (a ticket leaving above shifts rows, not pictures)."""
        return (self.key, self.rect.getRect(), self.src_top, self.src_bottom, self.head, self.foot, self.clipped)

    def card_point(self, pos: QPoint) -> QPoint | None:
        """`pos` on the canvas as a point on the card, or None if it is on a band or off this piece."""
        if not self.rect.contains(pos):
            return None
        y = pos.y() - self.rect.top() - self.head
        if y < 0 or y >= self.src_bottom - self.src_top:
            return None
        if self.clipped and pos.y() > self.rect.bottom() - FOOT_H:
            return None
        return QPoint(pos.x() - self.rect.left(), y + self.src_top)

    def canvas_point(self, card: QPoint) -> QPoint | None:
        """A point on the card as a point on the canvas, if this piece shows it."""
        if not self.src_top <= card.y() < self.src_bottom:
            return None
        at = QPoint(self.rect.left() + card.x(), self.rect.top() + self.head + card.y() - self.src_top)
        if self.clipped and at.y() > self.rect.bottom() - FOOT_H:
            return None
        return at


class PageBar(QFrame):
    """Under the cards: ◀ PREV · "page 2/5 · +23 more" · NEXT ▶. Always there, so nothing above it moves."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("PageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(MARGIN, 3, MARGIN, 3)
        layout.setSpacing(8)
        self.previous = QPushButton("◀  PREV")
        self.next = QPushButton("NEXT  ▶")
        self.label = QLabel("page 1/1")
        self.label.setObjectName("PageLabel")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(60)
        for button in (self.previous, self.next):
            button.setObjectName("PageButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the bump bar's keys stay with the cards
            button.setMinimumSize(PAGE_BUTTON_MIN)  # whatever the style sheet says
        layout.addWidget(self.previous)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.next)

    def add_beside(self, widget: QWidget) -> None:
        """Put a read-only strip (the day's prep times) between the page count and NEXT: one bar at the foot of
        the screen instead of two, so the cards get that height."""
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        layout.setStretchFactor(self.label, 0)
        layout.insertWidget(layout.indexOf(self.next), widget, 1)


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
        if released == pressed:
            self._grid.emit_tap(*released)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Qt turns a quick second tap into a double-click; for the cards it is just another tap.
        self.mousePressEvent(event)


class TicketGrid(QWidget):
    action_tapped = Signal(str)  # ticket key: a tap on the BUMP / SERVE zone
    item_tapped = Signal(str, object)  # ticket key, item id
    control_tapped = Signal(str, str)  # ticket key, control (card_layout.RUSH, card_layout.FIRE)
    page_changed = Signal(int)  # the page shown (0-based)

    def __init__(
        self, model: TicketModel, delegate: TicketDelegate, parent: QWidget | None = None, *, scroll: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("TicketGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.delegate = delegate
        self.empty_text = "No open tickets"
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

        model.rowsInserted.connect(self._rows_moved)
        model.rowsRemoved.connect(self._rows_moved)
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
                hit = self.delegate.layout_for(self._tickets[piece.row]).hit(at)
                return None if hit is None else (piece.key, hit)
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

    def emit_tap(self, key: str, hit: Hit) -> None:
        if hit.action:
            self.action_tapped.emit(key)
        elif hit.item_id is not None:
            self.item_tapped.emit(key, hit.item_id)
        elif hit.control is not None:
            self.control_tapped.emit(key, hit.control)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Without a bump bar map (kds_app.keys takes these first when there is one), the page keys still page.
        if event.key() in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.page_by(1 if event.key() == Qt.Key.Key_PageDown else -1)
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------ following the model

    def _rows_moved(self, *_args: object) -> None:
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
        entries = [(t.key, self.delegate.card_height(t)) for t in tickets]
        geometry = (self._columns, self.delegate.card_width, self._page_h)
        old_entries, old_tickets = self._entries, self._tickets
        self._tickets, self._entries = tickets, entries
        if self._everything or geometry != self._geometry:
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
            first = _first_difference(old_entries, entries)
            if first is not None:
                self._paginate(first)
        self._page = max(0, min(self._page, len(self._pages) - 1))
        self._show_page(everything=everything)

    def _paginate(self, from_row: int) -> None:
        """The first rows of the pages, worked out again from the page holding `from_row` (the pages before it
        cannot change)."""
        # A page ends at the first row that did not fit on it, so a change at that row can change the page too.
        keep = min(self._page_of(from_row - 1), len(self._pages) - 1) if from_row > 0 else 0
        starts = self._pages[:keep + 1] or [0]
        count = len(self._entries)
        while True:
            _pieces, end = self._place(starts[-1], build=False)
            if end >= count:
                break
            starts.append(end)
        self._pages = starts

    def _page_of(self, row: int) -> int:
        return max(0, bisect_right(self._pages, row) - 1)

    def _page_end(self) -> int:
        return self._pages[self._page + 1] if self._page + 1 < len(self._pages) else len(self._entries)

    def _x(self, column: int) -> int:
        return MARGIN + column * (self.delegate.card_width + GAP)

    def _place(self, start: int, *, build: bool) -> tuple[list[Piece], int]:
        """The cards of the page that starts at row `start` (when `build`), and the first row of the next page."""
        columns, width, room = self._columns, self.delegate.card_width, self._page_h
        bottoms = [0] * columns
        pieces: list[Piece] = []
        entries = self._entries
        row = start
        while row < len(entries):
            key, height = entries[row]
            if height <= room:
                lowest = min(bottoms)
                column = bottoms.index(lowest)
                top = lowest + GAP if lowest else 0
                if top + height > room:
                    break  # fits in no column: the next page starts with it
                bottoms[column] = top + height
                if build:
                    pieces.append(Piece(row, key, QRect(self._x(column), MARGIN + top, width, height), 0, height))
                row += 1
                continue
            segments = self._segments(row, room)
            empty = [c for c in range(columns) if bottoms[c] == 0]
            if row > start and len(empty) < len(segments):
                break  # a page of its own, from the first column
            shown = segments[:len(empty)]
            for n, (column, (src_top, src_bottom, head, foot)) in enumerate(zip(empty, shown, strict=False)):
                clipped = n == len(shown) - 1 and len(shown) < len(segments)
                if clipped:  # out of columns: the rest of the card is under a "MORE BELOW" band
                    src_bottom, foot = min(entries[row][1], src_top + room - head), 0
                h = head + src_bottom - src_top + foot
                bottoms[column] = h
                if build:
                    pieces.append(Piece(row, key, QRect(self._x(column), MARGIN, width, h), src_top, src_bottom,
                                        head, foot, clipped))
            row += 1
        return pieces, max(row, start + 1)

    def _segments(self, row: int, room: int) -> list[tuple[int, int, int, int]]:
        """A card taller than a column, in column-high parts: (card y from, card y to, band above, band below).
        Cut between items (never through one), keeping a station's header with its first item."""
        layout = self.delegate.layout_for(self._tickets[row])
        under_header = {s.rect.bottom() + 1 for s in layout.stations}
        cuts = {s.rect.top() for s in layout.stations[1:]}
        cuts |= {b.rect.top() for b in layout.items[1:] if b.rect.top() not in under_header}
        if layout.items:
            cuts.add(layout.items[-1].rect.bottom() + 1)  # before the BUMP zone
        segments: list[tuple[int, int, int, int]] = []
        top, head = 0, 0
        while True:
            space = room - head
            if layout.height - top <= space:
                segments.append((top, layout.height, head, 0))
                return segments
            space = max(40, space - FOOT_H)
            fits = [c for c in cuts if top < c <= top + space]
            cut = max(fits) if fits else top + space
            segments.append((top, cut, head, FOOT_H))
            top, head = cut, CONT_H

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
        if everything:
            self._canvas.invalidate(self._canvas.rect())
        else:
            before = {p.shape() for p in old}
            after = {p.shape() for p in self._placement}
            region = QRegion()
            for piece in old:
                if piece.shape() not in after:
                    region += piece.rect.translated(0, -self._offset)
            for piece in self._placement:
                if piece.shape() not in before or piece.key in changed:
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
            text = (f"{above} above · " if above else "") + (f"+{below} more below" if below else "all shown")
            self.page_bar.label.setText(text)
            self.page_bar.previous.setEnabled(top > 0)
            self.page_bar.next.setEnabled(top < self.scroll_bar.maximum())
            return
        pages, page = len(self._pages), self._page
        more = len(self._entries) - self._page_end()
        text = f"page {page + 1}/{pages}" + (f" · +{more} more" if more else "")
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
        fill, ink, _age = self.delegate.age_look(ticket, self.delegate.layout_for(ticket), card.age_s)
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
            text = "continues ▶" if piece.foot else "▼ MORE BELOW ▼"
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
        text = f"#{ticket.order.number} · cont."
        station = None
        for header in self.delegate.layout_for(ticket).stations:
            if header.rect.top() <= piece.src_top:
                station = None if header.rect.top() == piece.src_top else header.station
        return text if station is None else f"{text} · {station.upper()}"


def _first_difference(old: list[tuple[str, int]], new: list[tuple[str, int]]) -> int | None:
    """The first row whose ticket or card height differs, or None if the lists are the same."""
    common = min(len(old), len(new))
    if old[:common] == new[:common]:
        return None if len(old) == len(new) else common
    return next(i for i in range(common) if old[i] != new[i])
