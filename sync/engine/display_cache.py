"""`DisplayCache`: each order as last displayed, kept with the raw rows it was made from.

A listing reads an order's row, its items' rows and its unanswered intents as stored text. Parsing and validating
those, then folding the intents over the order with the state machine, cost a redraw more than its queries, and a
redraw mostly re-reads orders that did not change: a tap changes one order's intents by one (the card is redrawn
at once), and the engine's notification that follows re-reads the same rows. So an order whose rows are the same
strings as last time is not parsed again, and when its intents are the ones folded last time plus new ones, only
the new ones are folded (`overlay` is a left fold of a pure function, so folding the rest onto the last result is
the same as folding all of them). Anything else (a row changed, an intent answered) is parsed and folded afresh.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api_client.models import DeviceRole, Intent, OrderItemPublic, OrderWithItems
from sync.store.overlay import overlay
from sync.store.server_rows import line_order

DEFAULT_SIZE = 2048  # orders: more than a screen lists open and recently bumped together


@dataclass(frozen=True, slots=True)
class _Memo:
    order_data: str
    item_data: tuple[str, ...]
    payloads: tuple[str, ...]
    base: OrderWithItems  # the server's order, with its items
    shown: OrderWithItems  # with `payloads` folded over it


def parse_order(order_data: str, item_data: Sequence[str]) -> OrderWithItems:
    """An order's stored row and its items' rows as one validated order, its lines in ticket order."""
    lines = sorted((OrderItemPublic.model_validate_json(d) for d in item_data), key=line_order)
    # Validated item instances are taken as they are, so each item's JSON is parsed exactly once.
    return OrderWithItems.model_validate({**json.loads(order_data), "order_items": lines})


class DisplayCache:
    """Orders as displayed for one role, by id, least recently used first out. Safe from any thread."""

    def __init__(self, role: DeviceRole, size: int = DEFAULT_SIZE) -> None:
        self.role = role
        self.size = size
        self._memos: OrderedDict[str, _Memo] = OrderedDict()
        self._lock = threading.Lock()

    def displayed(
        self, order_id: str, order_data: str, item_data: tuple[str, ...], payloads: tuple[str, ...]
    ) -> OrderWithItems:
        """The order made of these rows, with these intents (payloads, in device order) folded over it."""
        with self._lock:
            memo = self._memos.get(order_id)
        if memo is None or memo.order_data != order_data or memo.item_data != item_data:
            base = parse_order(order_data, item_data)
            shown = _folded(base, payloads, self.role)
        elif memo.payloads == payloads:
            base, shown = memo.base, memo.shown
        elif payloads[: len(memo.payloads)] == memo.payloads:
            base, shown = memo.base, _folded(memo.shown, payloads[len(memo.payloads) :], self.role)
        else:  # an intent answered (or rejected) since: fold what is left afresh
            base = memo.base
            shown = _folded(base, payloads, self.role)
        with self._lock:
            self._memos[order_id] = _Memo(order_data, item_data, payloads, base, shown)
            self._memos.move_to_end(order_id)
            while len(self._memos) > self.size:
                self._memos.popitem(last=False)
        return shown

    def __len__(self) -> int:
        return len(self._memos)


def _folded(order: OrderWithItems, payloads: Sequence[str], role: DeviceRole) -> OrderWithItems:
    if not payloads:
        return order
    intents: list[Any] = [Intent.model_validate_json(p) for p in payloads]
    return overlay(order, intents, role).order
