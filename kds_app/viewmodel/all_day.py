"""All-day counts: how many of each item are still to cook across the open tickets a screen shows.

Counted by item name (and station), with modifiers ignored for the total: all-day is for batch work ("drop
seven patties"), and a patty is a patty whatever goes on it. The modifier mix is kept alongside as a
breakdown ("2 times no onion") because it is cheap and helps plan the few variants, but it never splits a
line: seven burgers split into five lines of one or two hides the number the cook is looking for.

Only work that can be started now is counted: new or cooking, not held (a held course is not fired yet, so
cooking it early is exactly the mistake coursing prevents), not done, not voided. Plain functions over the
tickets the model already holds, so the panel always agrees with the cards on the same screen.

With recipes (Double burger: 2 patties, 1 bun), the same outstanding items are also counted as ingredients
("6 patty"), for the prep that comes before the item: the patties to pull from the walk-in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from api_client.models import OrderItemPublic
from api_client.order_machine import OPEN_STATUSES

from .ticket_model import Ticket

OUTSTANDING = OPEN_STATUSES


@dataclass(frozen=True)
class AllDayLine:
    station: str
    name: str
    quantity: int
    variants: tuple[tuple[str, int], ...] = ()  # (modifiers joined, quantity), largest first; plain ones left out

    @property
    def key(self) -> tuple[str, str]:
        return (self.station, self.name)

    def variants_text(self) -> str:
        return " · ".join(f"{n}\u00d7 {mods}" for mods, n in self.variants)


def is_outstanding(item: OrderItemPublic) -> bool:
    return item.status in OUTSTANDING and not item.held


def all_day_counts(tickets: Iterable[Ticket]) -> list[AllDayLine]:
    """Outstanding quantity per (station, item name) across `tickets`, largest first, then by name.

    Each item is counted once even when several tickets show the same order (a station ticket shows only its
    own items, and expo's whole-order ticket is the only one on an expo screen)."""
    totals: Counter[tuple[str, str]] = Counter()
    mixes: dict[tuple[str, str], Counter[str]] = {}
    for item in _outstanding_items(tickets):
        key = (item.station, item.name.strip())
        totals[key] += item.quantity
        if item.modifiers:
            mixes.setdefault(key, Counter())[", ".join(item.modifiers)] += item.quantity
    lines = [
        AllDayLine(station, name, quantity, _largest_first(mixes.get((station, name))))
        for (station, name), quantity in totals.items()
    ]
    lines.sort(key=lambda line: (-line.quantity, line.name.casefold(), line.station))
    return lines


def ingredient_counts(
    tickets: Iterable[Ticket], recipes: Mapping[str, tuple[tuple[str, int], ...]]
) -> list[AllDayLine]:
    """Ingredients needed for the same outstanding items (issue 19 item 4): each item's quantity times its
    recipe's lines (three double burgers at 2 patties: 6 patties), summed by ingredient over every item and
    station shown, largest first. `recipes` maps an item name in lower case to its (ingredient, quantity) lines
    (the engine's `recipes`); an item without a recipe adds nothing. Ingredient names meet case-insensitively,
    shown as first spelled."""
    totals: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for item in _outstanding_items(tickets):
        for ingredient, per_item in recipes.get(item.name.strip().lower(), ()):
            key = ingredient.casefold()
            shown.setdefault(key, ingredient)
            totals[key] += per_item * item.quantity
    lines = [AllDayLine("", shown[key], quantity) for key, quantity in totals.items()]
    lines.sort(key=lambda line: (-line.quantity, line.name.casefold()))
    return lines


def _outstanding_items(tickets: Iterable[Ticket]) -> Iterator[OrderItemPublic]:
    """Each outstanding item of `tickets` once, even when several tickets show the same order."""
    seen: set[object] = set()
    for ticket in tickets:
        for item in ticket.order.order_items:
            if item.id not in seen and is_outstanding(item):
                seen.add(item.id)
                yield item


def _largest_first(mix: Counter[str] | None) -> tuple[tuple[str, int], ...]:
    if not mix:
        return ()
    return tuple(sorted(mix.items(), key=lambda pair: (-pair[1], pair[0])))
