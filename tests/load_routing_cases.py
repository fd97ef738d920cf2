"""Routing new items by load (issue 19 item 2): the scenarios the companion (tests/kds_backend/test_load_routing.py,
SQLite and PostgreSQL, orders through POS intake) and the Supabase SQL (tests/supabase/test_load_routing.py, a POS
inserting through RLS) both run, so the two rules stay one.

Each step is one of:
    Routing(on, alternates)   an admin sets the restaurant's routing by load
    Order(lines, want)        the POS sends an order, one line per station it names; `want`: where each line is
    Add(order, lines, want)   the POS adds lines to the n-th order sent (0-based)
    Bump(order)               expo bumps the whole n-th order (its items are done: no longer open)
    Void(order, line)         the POS voids one line of the n-th order
Loads are set up explicitly with routing off, then turned on: every expected station follows from the open items
(new or cooking) each station has at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Routing:
    on: bool
    alternates: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Order:
    lines: list[str]
    want: list[str]


@dataclass(frozen=True)
class Add:
    order: int
    lines: list[str]
    want: list[str]


@dataclass(frozen=True)
class Bump:
    order: int


@dataclass(frozen=True)
class Void:
    order: int
    line: int


Step = Routing | Order | Add | Bump | Void


@dataclass(frozen=True)
class Case:
    name: str
    doc: str
    steps: list[Step]


GRILL_OR_FLAT = {"grill": ["flat"]}

CASES = [
    Case(
        "off_by_default",
        "alternates alone change nothing: an item goes to the station it was sent to until routing by load is on",
        [
            Order(["grill", "grill"], ["grill", "grill"]),
            Routing(False, GRILL_OR_FLAT),
            Order(["grill"], ["grill"]),
        ],
    ),
    Case(
        "least_loaded_station",
        "the station of the group with the fewest open items; a tie goes to the station named; one order's items of "
        "a group stay together, lines added later too; a station without alternates, and another group, stand",
        [
            Order(["grill", "grill"], ["grill", "grill"]),
            Order(["flat"], ["flat"]),
            Routing(True, GRILL_OR_FLAT),
            Order(["grill"], ["flat"]),  # grill 2, flat 1
            Order(["grill"], ["grill"]),  # 2 and 2: the station named
            Order(["grill", "grill", "fry", "flat"], ["flat", "flat", "fry", "flat"]),  # grill 3, flat 2
            Add(2, ["grill"], ["flat"]),  # flat has 5 now, grill 3: the order's flat ticket all the same
            Order(["grill"], ["grill"]),  # grill 3, flat 6
        ],
    ),
    Case(
        "done_and_voided_items_are_not_load",
        "items bumped done and lines voided no longer count; the alternates are tried in the order listed",
        [
            Order(["flat", "flat", "flat"], ["flat", "flat", "flat"]),
            Order(["grill", "grill"], ["grill", "grill"]),
            Order(["flat", "flat"], ["flat", "flat"]),
            Bump(0),
            Void(2, 0),
            Routing(True, {"grill": ["plancha", "flat"]}),
            Order(["grill"], ["plancha"]),  # grill 2, plancha 0, flat 1 (5 with the done and the voided)
            Order(["grill"], ["plancha"]),  # grill 2, plancha 1, flat 1: a tie goes to the one listed first
            Order(["grill"], ["flat"]),  # grill 2, plancha 2, flat 1
        ],
    ),
]
