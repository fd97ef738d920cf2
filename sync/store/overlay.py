"""What a screen shows: the server's order with this screen's unanswered intents folded over it.

Pure. It uses the very state machine the server applies, so the prediction matches the server's decision for
the same order. An intent that no longer applies (the order changed under it) is left out, not shown as done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from api_client.models import DeviceRole, Intent, OrderWithItems
from api_client.order_machine import Rejection, apply_intent


@dataclass(frozen=True)
class Overlaid:
    order: OrderWithItems
    applied: list[Intent] = field(default_factory=list)
    skipped: list[tuple[Intent, str]] = field(default_factory=list)
    """Pending intents that would be rejected on the current state, with the reason the server would give."""


def overlay(order: OrderWithItems, pending: Iterable[Intent], role: DeviceRole) -> Overlaid:
    shown = order
    applied: list[Intent] = []
    skipped: list[tuple[Intent, str]] = []
    for intent in pending:
        if intent.order_id != order.id:
            continue
        outcome = apply_intent(shown, intent, role)
        if isinstance(outcome, Rejection):
            skipped.append((intent, outcome.reason))
        else:
            shown = outcome
            applied.append(intent)
    return Overlaid(shown, applied, skipped)
