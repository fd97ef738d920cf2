"""The order state machine: what an intent does to an order, or why it cannot.

Pure functions on the wire models, with no I/O: the companion applies intents with them, and the sync
engine uses the very same code for its optimistic overlay, so a screen predicts exactly what the server
will decide. Reasons are written for a cook reading them on the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import (
    DeviceRole,
    Intent,
    IntentKind,
    ItemStatus,
    OrderItemPublic,
    OrderStatus,
    OrderWithItems,
    Priority,
)

ORDER_INTENTS = frozenset(IntentKind) - {IntentKind.eighty_six}
SERVE_ROLES = frozenset({DeviceRole.expo, DeviceRole.admin})
INTENT_ROLES = frozenset({DeviceRole.kds, DeviceRole.expo, DeviceRole.admin})


@dataclass(frozen=True)
class Rejection:
    reason: str


def derive_status(current: OrderStatus, items: Iterable[OrderItemPublic]) -> OrderStatus:
    """The order's status implied by its items. Served and cancelled orders are final here."""
    if current in (OrderStatus.served, OrderStatus.cancelled):
        return current
    active = [i for i in items if i.status is not ItemStatus.voided]
    if not active:
        return current
    if all(i.status is ItemStatus.done for i in active):
        return OrderStatus.ready
    if any(i.status is not ItemStatus.new for i in active):
        return OrderStatus.in_progress
    return OrderStatus.in_progress if current is OrderStatus.in_progress else OrderStatus.new


def apply_intent(order: OrderWithItems, intent: Intent, role: DeviceRole) -> OrderWithItems | Rejection:
    """The order after `intent`, or the reason it is rejected. `order` is not modified."""
    if intent.kind not in ORDER_INTENTS:
        return Rejection(f"{intent.kind.value} does not act on an order")
    if role not in INTENT_ROLES:
        return Rejection(f"a {role.value} device cannot change tickets")
    label = f"Order {order.number}"
    if order.cleared_at is not None:
        # Archived by the end-of-day clear: it left every screen, so nothing may bring it back to one.
        return Rejection(f"{label} was cleared at the end of the day")
    if order.status is OrderStatus.cancelled and intent.kind is not IntentKind.ack_change:
        return Rejection(f"{label} was cancelled")
    if order.status is OrderStatus.served and intent.kind is not IntentKind.recall:
        return Rejection(f"{label} was already served")
    course = intent.args.get("course")
    if course is not None and not _is_course(course):
        # Never read a malformed course as "no course": that would hold or fire every course.
        return Rejection(f"args.course must be a course number from 1 to 9, not {_shown(course)}")
    handler = _HANDLERS[intent.kind]
    outcome = handler(order, intent, role)
    if intent.kind in _BUMPS and not isinstance(outcome, Rejection) and not course_due(order):
        # Only the bump that finishes the courses before the next held one fires it: a course the expo holds
        # again after its previous course was already done stays held until fired by hand.
        outcome = _fire_due_course(outcome)
    return outcome


def next_held_course(order: OrderWithItems) -> int | None:
    """The lowest course with a held item still to cook (the next course to fire), or None."""
    held = [i.course for i in order.order_items if i.held and _is_open(i)]
    return min(held) if held else None


def course_due(order: OrderWithItems) -> bool:
    """The next held course may fire: every live item of the courses before it is done (and there is one)."""
    course = next_held_course(order)
    if course is None:
        return False
    before = [i for i in order.order_items if i.course < course and i.status is not ItemStatus.voided]
    return bool(before) and all(i.status is ItemStatus.done for i in before)


def _fire_due_course(order: OrderWithItems) -> OrderWithItems:
    """Auto-fire: the kitchen bumped the last of a course, so the next held course goes to the stations."""
    if not course_due(order):
        return order
    course = next_held_course(order)
    new, _ = _with_items(
        order, lambda i: i.model_copy(update={"held": False}) if i.held and i.course == course and
        i.status is not ItemStatus.voided else None
    )
    return new


# ---------------------------------------------------------------- helpers


def _at_station(item: OrderItemPublic, station: str | None) -> bool:
    return station is None or item.station == station


def _where(station: str | None) -> str:
    return f" at {station}" if station else ""


def _find_item(order: OrderWithItems, intent: Intent) -> OrderItemPublic | Rejection:
    if intent.item_id is None:
        return Rejection(f"{intent.kind.value} needs an item")
    for item in order.order_items:
        if item.id == intent.item_id:
            return item
    return Rejection(f"That item is no longer on order {order.number}")


def _with_items(
    order: OrderWithItems, change: Callable[[OrderItemPublic], OrderItemPublic | None]
) -> tuple[OrderWithItems, int]:
    """Apply `change` to each item (None means unchanged); return the new order and how many changed."""
    changed = 0
    items = []
    for item in order.order_items:
        new = change(item)
        if new is None:
            items.append(item)
        else:
            items.append(new)
            changed += 1
    return order.model_copy(update={"order_items": items, "status": derive_status(order.status, items)}), changed


def _set_status(order: OrderWithItems, targets: set[object], status: ItemStatus) -> OrderWithItems:
    order, _ = _with_items(order, lambda i: i.model_copy(update={"status": status}) if i.id in targets else None)
    return order


def _is_course(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9


def _item_course(intent: Intent) -> int | None:
    """`args.course`, or None when absent (`apply_intent` has rejected a malformed one)."""
    course = intent.args.get("course")
    return course if _is_course(course) else None


def _shown(value: object) -> str:
    """A client's value quoted in a reason, kept short: reasons are read on a screen and ledgered."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _targets(order: OrderWithItems, intent: Intent, keep: Callable[[OrderItemPublic], bool]) -> list[OrderItemPublic]:
    """Items the intent addresses (one item, a course, or a station's items) that pass `keep`."""
    course = _item_course(intent)
    chosen = []
    for item in order.order_items:
        if intent.item_id is not None and item.id != intent.item_id:
            continue
        if intent.item_id is None and not _at_station(item, intent.station):
            continue
        if course is not None and item.course != course:
            continue
        if keep(item):
            chosen.append(item)
    return chosen


def _is_open(item: OrderItemPublic) -> bool:
    return item.status in (ItemStatus.new, ItemStatus.cooking)


# ---------------------------------------------------------------- one handler per intent kind


def _start(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    todo = _targets(order, intent, lambda i: i.status is ItemStatus.new and not i.held)
    if not todo:
        return Rejection(f"Nothing new to start{_where(intent.station)} on order {order.number}")
    return _set_status(order, {i.id for i in todo}, ItemStatus.cooking)


def _bump_item(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    item = _find_item(order, intent)
    if isinstance(item, Rejection):
        return item
    if item.status is ItemStatus.voided:
        return Rejection(f"{item.name} was voided")
    if item.status is ItemStatus.done:
        return Rejection(f"{item.name} is already done")
    if item.held:
        return Rejection(f"{item.name} is on hold: fire it first")
    return _set_status(order, {item.id}, ItemStatus.done)


def _unbump_item(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    item = _find_item(order, intent)
    if isinstance(item, Rejection):
        return item
    if item.status is not ItemStatus.done:
        return Rejection(f"{item.name} is not done")
    return _set_status(order, {item.id}, ItemStatus.cooking)


def _bump_ticket(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    """Finishes the station's open items and acknowledges every change on its ticket (added, voided, held or
    not): the cook bumped the card with those changes on it. A change left flagged would keep a bumped ticket
    on the rail with nothing to bump."""
    todo = {i.id for i in order.order_items if _at_station(i, intent.station) and _is_open(i) and not i.held}
    if not todo:
        return Rejection(f"Nothing left to bump{_where(intent.station)} on order {order.number}")

    def bumped(i: OrderItemPublic) -> OrderItemPublic | None:
        update: dict[str, object] = {}
        if i.id in todo:
            update["status"] = ItemStatus.done
        if i.changed_after_send and _at_station(i, intent.station):
            update["changed_after_send"] = False
        return i.model_copy(update=update) if update else None

    new, _ = _with_items(order, bumped)
    return new


def _recall(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    done = [i for i in order.order_items if _at_station(i, intent.station) and i.status is ItemStatus.done]
    if order.status is OrderStatus.served:
        # Back from the pass: the order is ready again, and a station recall reopens its items too.
        reopened = order.model_copy(update={"status": OrderStatus.ready})
        if intent.station is None or not done:
            return reopened
        return _set_status(
            reopened.model_copy(update={"status": OrderStatus.in_progress}),
            {i.id for i in done},
            ItemStatus.cooking,
        )
    if not done:
        return Rejection(f"Nothing to recall{_where(intent.station)} on order {order.number}")
    return _set_status(order, {i.id for i in done}, ItemStatus.cooking)


def _serve(order: OrderWithItems, intent: Intent, role: DeviceRole) -> OrderWithItems | Rejection:
    if role not in SERVE_ROLES:
        return Rejection("Only expo can serve an order")
    if order.status is not OrderStatus.ready:
        waiting = sorted({i.station for i in order.order_items if _is_open(i)})
        if waiting:
            return Rejection(f"Order {order.number} is not ready: waiting on {', '.join(waiting)}")
        return Rejection(f"Order {order.number} is not ready")
    return order.model_copy(update={"status": OrderStatus.served})


def _rush(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    raw = intent.args.get("priority", Priority.rush.value)
    try:
        priority = Priority(raw)
    except ValueError:
        return Rejection(f"Unknown priority {_shown(raw)}")
    if order.priority is priority:
        state = "rushed" if priority is Priority.rush else "at normal priority"
        return Rejection(f"Order {order.number} is already {state}")
    return order.model_copy(update={"priority": priority})


def _hold(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    todo = _targets(order, intent, lambda i: _is_open(i) and not i.held)
    if not todo:
        return Rejection(f"Nothing to hold{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    new, _ = _with_items(order, lambda i: i.model_copy(update={"held": True}) if i.id in targets else None)
    return new


def _fire(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    todo = _targets(order, intent, lambda i: i.held and i.status is not ItemStatus.voided)
    if not todo:
        return Rejection(f"Nothing on hold{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    new, _ = _with_items(order, lambda i: i.model_copy(update={"held": False}) if i.id in targets else None)
    return new


def _ack_change(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> OrderWithItems | Rejection:
    todo = _targets(order, intent, lambda i: i.changed_after_send)
    if not todo:
        return Rejection(f"No changes to acknowledge{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    new, _ = _with_items(
        order, lambda i: i.model_copy(update={"changed_after_send": False}) if i.id in targets else None
    )
    return new


_BUMPS = frozenset({IntentKind.bump_item, IntentKind.bump_ticket})

_HANDLERS: dict[IntentKind, Callable[[OrderWithItems, Intent, DeviceRole], OrderWithItems | Rejection]] = {
    IntentKind.start: _start,
    IntentKind.bump_item: _bump_item,
    IntentKind.unbump_item: _unbump_item,
    IntentKind.bump_ticket: _bump_ticket,
    IntentKind.recall: _recall,
    IntentKind.serve: _serve,
    IntentKind.rush: _rush,
    IntentKind.hold: _hold,
    IntentKind.fire: _fire,
    IntentKind.ack_change: _ack_change,
}
