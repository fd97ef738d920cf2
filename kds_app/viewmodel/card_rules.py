"""What a ticket card offers a cook, whatever it looks like: station or expo mode, whether its action (bump /
serve) would do anything, its RUSH and FIRE controls, and whether it carries changes nobody acknowledged.

The controller (`screen.py`) acts on these rules and the card layout (`kds_app.cards.card_layout`) draws them,
so they live below both.
"""

from __future__ import annotations

from enum import Enum

from api_client.models import OrderWithItems, Priority
from api_client.order_machine import bump_targets, can_serve, stations_cooking


class CardMode(Enum):
    STATION = "station"  # one station's items; the action bumps them
    EXPO = "expo"  # the whole order by station; the action serves it


RUSH = "rush"  # the RUSH / UN-RUSH button: expo's (and, if configured, a station's)
FIRE = "fire"  # expo's FIRE COURSE n button, while an order has a held course


def action_state(order: OrderWithItems, mode: CardMode) -> tuple[bool, tuple[str, ...]]:
    """Whether the card's action (bump / serve) would do anything, and for expo the stations still cooking."""
    # The order machine's own rules, so a card offers exactly what the server would take.
    if mode is CardMode.EXPO:
        return can_serve(order), tuple(stations_cooking(order))
    return bool(bump_targets(order, None)), ()


def has_changes(order: OrderWithItems) -> bool:
    """An item on the card was added or voided after the order reached the kitchen and nobody acknowledged it."""
    return any(i.changed_after_send for i in order.order_items)


def is_rush(order: OrderWithItems) -> bool:
    return order.priority is Priority.rush
