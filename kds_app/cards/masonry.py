"""The card grid's arithmetic: which part of which card goes where on a page, and where each page starts.

Integers and rectangles only, no widget: `ticket_grid.TicketGrid` asks these functions and paints the answer,
and they can be checked without a window. The layout rule (masonry, whole cards per page, tall cards continued
across empty columns) is described at the top of `ticket_grid.py`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect

from .card_layout import CardLayout

GAP = 10  # between cards, across and down
MARGIN = 4  # around the cards
CONT_H = 44  # the band over the next column of a card that continues: "#123 · cont."
FOOT_H = 40  # the band under the part of a card that continues in the next column

Segment = tuple[int, int, int, int]  # a column-high part of a card: (card y from, card y to, band above, band below)


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



def column_x(column: int, width: int) -> int:
    """The left edge of `column` for cards `width` wide."""
    return MARGIN + column * (width + GAP)


def segments(layout: CardLayout, room: int) -> list[Segment]:
    """A card taller than a column, in column-high parts: (card y from, card y to, band above, band below).
    Cut between items (never through one), keeping a station's header with its first item."""
    under_header = {s.rect.bottom() + 1 for s in layout.stations}
    cuts = {s.rect.top() for s in layout.stations[1:]}
    cuts |= {b.rect.top() for b in layout.items[1:] if b.rect.top() not in under_header}
    if layout.items:
        cuts.add(layout.items[-1].rect.bottom() + 1)  # before the BUMP zone
    parts: list[Segment] = []
    top, head = 0, 0
    while True:
        space = room - head
        if layout.height - top <= space:
            parts.append((top, layout.height, head, 0))
            return parts
        space = max(40, space - FOOT_H)
        fits = [c for c in cuts if top < c <= top + space]
        cut = max(fits) if fits else top + space
        parts.append((top, cut, head, FOOT_H))
        top, head = cut, CONT_H


def place(
    entries: list[tuple[str, int]],
    start: int,
    *,
    columns: int,
    width: int,
    room: int,
    segments_of: Callable[[int], list[Segment]],
    build: bool,
) -> tuple[list[Piece], int]:
    """The cards of the page that starts at row `start` (when `build`), and the first row of the next page.
    `entries`: (key, card height) per row; `room`: the page's height; `segments_of(row)`: a tall card's parts."""
    bottoms = [0] * columns
    pieces: list[Piece] = []
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
                pieces.append(Piece(row, key, QRect(column_x(column, width), MARGIN + top, width, height), 0, height))
            row += 1
            continue
        parts = segments_of(row)
        empty = [c for c in range(columns) if bottoms[c] == 0]
        if row > start and len(empty) < len(parts):
            break  # a page of its own, from the first column
        shown = parts[:len(empty)]
        for n, (column, (src_top, src_bottom, head, foot)) in enumerate(zip(empty, shown, strict=False)):
            clipped = n == len(shown) - 1 and len(shown) < len(parts)
            if clipped:  # out of columns: the rest of the card is under a "MORE BELOW" band
                src_bottom, foot = min(entries[row][1], src_top + room - head), 0
            h = head + src_bottom - src_top + foot
            bottoms[column] = h
            if build:
                pieces.append(Piece(row, key, QRect(column_x(column, width), MARGIN, width, h), src_top, src_bottom,
                                    head, foot, clipped))
        row += 1
    return pieces, max(row, start + 1)


def page_of(pages: list[int], row: int) -> int:
    """The page holding `row`, given each page's first row."""
    return max(0, bisect_right(pages, row) - 1)


def paginate(pages: list[int], from_row: int, count: int, next_start: Callable[[int], int]) -> list[int]:
    """The first rows of the pages of `count` rows, worked out again from the page holding `from_row` (the pages
    before it cannot change). `next_start(start)`: the first row of the page after the one starting at `start`."""
    # A page ends at the first row that did not fit on it, so a change at that row can change the page too.
    keep = min(page_of(pages, from_row - 1), len(pages) - 1) if from_row > 0 else 0
    starts = pages[:keep + 1] or [0]
    while True:
        end = next_start(starts[-1])
        if end >= count:
            break
        starts.append(end)
    return starts


def first_difference(old: list[tuple[str, int]], new: list[tuple[str, int]]) -> int | None:
    """The first row whose ticket or card height differs, or None if the lists are the same."""
    common = min(len(old), len(new))
    if old[:common] == new[:common]:
        return None if len(old) == len(new) else common
    return next(i for i in range(common) if old[i] != new[i])
