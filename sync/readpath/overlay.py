"""What a screen shows for an order with pending local intents: the server's row as the base, intents on top.

Stream events never overwrite what the cook just did (BRIEF §3.5). The server row is still recorded as the new
base, so when the intents are confirmed or rejected the right base is there; what is displayed is the base with
the pending intents replayed by the very same order machine the server runs (`api_client.order_machine`). An
intent that no longer applies to the new base (someone else bumped the ticket first) is skipped here; the outbox
will get its verdict from the server and show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from api_client.models import DeviceRole, Intent, OrderWithItems
from sync.store.overlay import overlay

from .merge import LocalState

Protected = Callable[[UUID], bool]
"""Does this order have pending local intents? Supplied by the outbox."""
PendingFor = Callable[[UUID], Sequence[Intent]]
"""The pending intents of an order, in device order. Supplied by the outbox."""


def displayed_order(base: OrderWithItems, pending: Iterable[Intent], role: DeviceRole) -> OrderWithItems:
    """`base` with each pending intent for it applied in order; intents that now reject are skipped."""
    return overlay(base, pending, role).order


def displayed_orders(
    state: LocalState,
    order_ids: Iterable[UUID],
    protected: Protected,
    pending_for: PendingFor,
    role: DeviceRole,
) -> dict[UUID, OrderWithItems | None]:
    """What to show for each changed order: the server's order, or base + pending intents when protected.
    None means the order is gone (deleted) and its ticket should disappear."""
    shown: dict[UUID, OrderWithItems | None] = {}
    for order_id in order_ids:
        base = state.order(order_id)
        if base is not None and protected(order_id):
            base = displayed_order(base, pending_for(order_id), role)
        shown[order_id] = base
    return shown
