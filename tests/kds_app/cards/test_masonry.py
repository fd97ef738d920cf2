"""The card grid's page arithmetic without a window (`kds_app.cards.masonry`); `test_ticket_grid.py` checks the
same rules through the real grid."""

from __future__ import annotations

from kds_app.cards.masonry import FOOT_H, GAP, MARGIN, Segment, first_difference, page_of, paginate, place

WIDTH = 300


def _no_tall_cards(row: int) -> list[Segment]:
    raise AssertionError(f"row {row} is not taller than the page")


def _layout(heights: list[int], start: int = 0, *, columns: int = 2, room: int = 250, parts=_no_tall_cards):
    entries = [(f"t{n}", h) for n, h in enumerate(heights)]
    return place(entries, start, columns=columns, width=WIDTH, room=room, segments_of=parts, build=True)


def test_cards_fill_the_shortest_column_oldest_top_left_and_the_page_ends_at_the_first_that_fits_nowhere() -> None:
    pieces, next_start = _layout([100, 60, 100, 100, 100])
    where = {p.key: (p.rect.left(), p.rect.top()) for p in pieces}
    left, right = MARGIN, MARGIN + WIDTH + GAP
    assert where == {
        "t0": (left, MARGIN),  # the oldest, top left
        "t1": (right, MARGIN),
        "t2": (right, MARGIN + 60 + GAP),  # under the shorter card
        "t3": (left, MARGIN + 100 + GAP),
    }
    assert next_start == 4  # t4 fits in no column: the next page starts with it, nothing skipped


def test_a_tall_card_runs_down_empty_columns_and_is_cut_only_when_they_run_out() -> None:
    parts: list[Segment] = [(0, 200, 0, FOOT_H), (200, 400, 44, FOOT_H), (400, 600, 44, 0)]
    pieces, next_start = _layout([600], columns=2, parts=lambda row: parts)
    assert [(p.src_top, p.src_bottom, p.clipped) for p in pieces] == [(0, 200, False), (200, 250 + 200 - 44, True)]
    assert next_start == 1
    # With a card already on the page and too few empty columns, the tall card starts the next page.
    pieces, next_start = _layout([100, 600], columns=2, parts=lambda row: parts)
    assert [p.key for p in pieces] == ["t0"]
    assert next_start == 1


def test_pages_are_worked_out_again_only_from_the_page_that_changed() -> None:
    heights = [200, 200, 200, 200, 200]  # two cards a page (one per column)
    asked: list[int] = []

    def next_start(start: int) -> int:
        asked.append(start)
        return _layout(heights, start)[1]

    pages = paginate([0], 0, len(heights), next_start)
    assert pages == [0, 2, 4]
    assert page_of(pages, 3) == 1
    asked.clear()
    assert paginate(pages, 4, len(heights), next_start) == [0, 2, 4]
    assert asked == [2, 4]  # from the page holding the row before the change (its end may move); page 0 kept


def test_first_difference_names_the_first_row_whose_ticket_or_height_changed() -> None:
    old = [("a", 100), ("b", 120)]
    assert first_difference(old, list(old)) is None
    assert first_difference(old, [("a", 100), ("b", 140)]) == 1
    assert first_difference(old, [*old, ("c", 90)]) == 2
    assert first_difference(old, [("x", 100), ("b", 120)]) == 0
