"""The order state machine: what an intent does to an order, or why it cannot.

Pure functions on the wire models, with no I/O: the companion applies intents with them, and the sync
engine uses the very same code for its optimistic overlay, so a screen predicts exactly what the server
will decide. Reasons are written for a cook reading them on the screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

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


@dataclass(frozen=True, slots=True)
class _Draft:
    """What a handler decided, before the order is built from it: once per intent, in `apply_intent` (the
    companion applies thousands of intents a second with this, and each copy of an order costs)."""

    items: list[OrderItemPublic]
    """The order's items after the intent (the unchanged ones are the order's own objects)."""
    status: OrderStatus | None = None
    """What the order's new status is derived from with its items (`derive_status`); None: its current status."""
    update: dict[str, object] | None = None
    """Other fields of the order the intent sets (priority, status of a served or recalled order)."""


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
    draft = handler(order, intent, role)
    if isinstance(draft, Rejection):
        return draft
    items = draft.items
    if intent.kind in _BUMPS and not _course_due(order.order_items):
        # Only the bump that finishes the courses before the next held one fires it: a course the expo holds
        # again after its previous course was already done stays held until fired by hand.
        items = _fire_due_course(items, _provisional_fired_at(order, intent))
    update: dict[str, object] = dict(draft.update or {})
    if items is not order.order_items:
        update["order_items"] = items
        update["status"] = derive_status(draft.status or order.status, items)
    return order.model_copy(update=update)


def next_held_course(order: OrderWithItems) -> int | None:
    """The lowest course with a held item still to cook (the next course to fire), or None."""
    return _next_held(order.order_items)


def course_due(order: OrderWithItems) -> bool:
    """The next held course may fire: every live item of the courses before it is done (and there is one)."""
    return _course_due(order.order_items)


def _next_held(items: Iterable[OrderItemPublic]) -> int | None:
    held = [i.course for i in items if i.held and is_open(i)]
    return min(held) if held else None


def _course_due(items: list[OrderItemPublic]) -> bool:
    course = _next_held(items)
    if course is None:
        return False
    before = [i for i in items if i.course < course and i.status is not ItemStatus.voided]
    return bool(before) and all(i.status is ItemStatus.done for i in before)


def _fire_due_course(items: list[OrderItemPublic], fired_at: datetime) -> list[OrderItemPublic]:
    """Auto-fire: the kitchen bumped the last of a course, so the next held course goes to the stations."""
    if not _course_due(items):
        return items
    course = _next_held(items)
    update = {"held": False, "fired_at": fired_at}
    return _changed(
        items,
        lambda i: i.model_copy(update=update) if i.held and i.course == course and i.status is not ItemStatus.voided
        else None,
    )


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


def _changed(
    items: list[OrderItemPublic], change: Callable[[OrderItemPublic], OrderItemPublic | None]
) -> list[OrderItemPublic]:
    """`items` with `change` applied to each (None means unchanged): a new list, or `items` itself if no item
    changed."""
    out = []
    changed = False
    for item in items:
        new = change(item)
        if new is None:
            out.append(item)
        else:
            out.append(new)
            changed = True
    return out if changed else items


def _with_items(order: OrderWithItems, change: Callable[[OrderItemPublic], OrderItemPublic | None]) -> _Draft:
    return _Draft(_changed(order.order_items, change))


def _set_status(order: OrderWithItems, targets: set[object], status: ItemStatus) -> _Draft:
    return _with_items(order, lambda i: i.model_copy(update={"status": status}) if i.id in targets else None)


def _provisional_done_at(order: OrderWithItems, intent: Intent) -> datetime:
    """The done time of the items an intent finishes, until the server stamps its own (both servers ignore this
    one): later than every done time on the order, so a screen's pending bump after a pending strike is the last
    bump when a pending recall follows (`_last_finished`)."""
    stamps = [i.done_at + _TICK for i in order.order_items if i.done_at is not None]
    if intent.created_at is not None:
        stamps.append(intent.created_at)
    return max(stamps, default=_NO_TIME)


def _provisional_fired_at(order: OrderWithItems, intent: Intent) -> datetime:
    """When a fired course went to the kitchen, until the server stamps its own time (both servers ignore this
    one): the tap's time, so a screen's pending fire counts its fire timing from the tap (api_client/fire_timing)."""
    return intent.created_at if intent.created_at is not None else order.updated_at


def _finish(order: OrderWithItems, intent: Intent, targets: set[object]) -> _Draft:
    done_at = _provisional_done_at(order, intent)
    update = {"status": ItemStatus.done, "done_at": done_at}
    return _with_items(order, lambda i: i.model_copy(update=update) if i.id in targets else None)


def _reopen(order: OrderWithItems, targets: set[object]) -> _Draft:
    """Back to cooking, without a done time (as the servers keep it)."""
    update = {"status": ItemStatus.cooking, "done_at": None}
    return _with_items(order, lambda i: i.model_copy(update=update) if i.id in targets else None)


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


OPEN_STATUSES = frozenset({ItemStatus.new, ItemStatus.cooking})


def is_open(item: OrderItemPublic) -> bool:
    """Still to cook: neither done nor voided (held or not)."""
    return item.status in OPEN_STATUSES


def can_strike(item: OrderItemPublic) -> bool:
    """A tap would finish it (`bump_item`): still to cook and not held for a later course."""
    return is_open(item) and not item.held


def bump_targets(order: OrderWithItems, station: str | None) -> set[UUID]:
    """The items a bump of the station's ticket (None: the whole order's) finishes; empty: it would be refused."""
    return {i.id for i in order.order_items if _at_station(i, station) and can_strike(i)}


def stations_cooking(order: OrderWithItems) -> list[str]:
    """The stations with an item still to cook, sorted: what an order that is not ready is waiting on."""
    return sorted({i.station for i in order.order_items if is_open(i)})


def can_serve(order: OrderWithItems) -> bool:
    """Expo's serve would be taken: the order is ready."""
    return order.status is OrderStatus.ready


# ---------------------------------------------------------------- one handler per intent kind


def _start(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    todo = _targets(order, intent, lambda i: i.status is ItemStatus.new and not i.held)
    if not todo:
        return Rejection(f"Nothing new to start{_where(intent.station)} on order {order.number}")
    return _set_status(order, {i.id for i in todo}, ItemStatus.cooking)


def _bump_item(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    item = _find_item(order, intent)
    if isinstance(item, Rejection):
        return item
    if item.status is ItemStatus.voided:
        return Rejection(f"{item.name} was voided")
    if item.status is ItemStatus.done:
        return Rejection(f"{item.name} is already done")
    if item.held:
        return Rejection(f"{item.name} is on hold: fire it first")
    return _finish(order, intent, {item.id})


def _unbump_item(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    item = _find_item(order, intent)
    if isinstance(item, Rejection):
        return item
    if item.status is not ItemStatus.done:
        return Rejection(f"{item.name} is not done")
    return _reopen(order, {item.id})


def _bump_ticket(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    """Finishes the station's open items and acknowledges every change on its ticket (added, voided, held or
    not): the cook bumped the card with those changes on it. A change left flagged would keep a bumped ticket
    on the rail with nothing to bump."""
    todo = bump_targets(order, intent.station)
    if not todo:
        return Rejection(f"Nothing left to bump{_where(intent.station)} on order {order.number}")

    done_at = _provisional_done_at(order, intent)

    def bumped(i: OrderItemPublic) -> OrderItemPublic | None:
        update: dict[str, object] = {}
        if i.id in todo:
            update["status"] = ItemStatus.done
            update["done_at"] = done_at  # one time for the whole bump: what a recall reopens (`_last_finished`)
        if i.changed_after_send and _at_station(i, intent.station):
            update["changed_after_send"] = False
        return i.model_copy(update=update) if update else None

    return _with_items(order, bumped)


def _last_finished(items: Iterable[OrderItemPublic]) -> set[object]:
    """The done items the last bump finished: those done at the latest done time. A bump stamps every item it
    finishes with one time, and a strike before it (even in the same batch: the servers stamp each intent of a
    batch a microsecond after the one before) has an earlier one, so the items struck before the bump stay
    done. Items without a done time (rows from before the column) count only when no item has one."""
    done = [i for i in items if i.status is ItemStatus.done]
    stamps = [i.done_at for i in done if i.done_at is not None]
    last = max(stamps) if stamps else None
    return {i.id for i in done if i.done_at == last}


def _recall(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    """Undoes the last bump: the ticket comes back as it was before it, the items struck before it still done."""
    last = _last_finished(i for i in order.order_items if _at_station(i, intent.station))
    if order.status is OrderStatus.served:
        # Back from the pass: the order is ready again, and a station recall reopens its last bump too.
        if intent.station is None or not last:
            return _Draft(order.order_items, update={"status": OrderStatus.ready})
        return _Draft(_reopen(order, last).items, status=OrderStatus.in_progress)
    if not last:
        return Rejection(f"Nothing to recall{_where(intent.station)} on order {order.number}")
    return _reopen(order, last)


def _serve(order: OrderWithItems, intent: Intent, role: DeviceRole) -> _Draft | Rejection:
    if role not in SERVE_ROLES:
        return Rejection("Only expo can serve an order")
    if not can_serve(order):
        waiting = stations_cooking(order)
        if waiting:
            return Rejection(f"Order {order.number} is not ready: waiting on {', '.join(waiting)}")
        return Rejection(f"Order {order.number} is not ready")
    return _Draft(order.order_items, update={"status": OrderStatus.served})


def _rush(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    raw = intent.args.get("priority", Priority.rush.value)
    try:
        priority = Priority(raw)
    except ValueError:
        return Rejection(f"Unknown priority {_shown(raw)}")
    if order.priority is priority:
        state = "rushed" if priority is Priority.rush else "at normal priority"
        return Rejection(f"Order {order.number} is already {state}")
    return _Draft(order.order_items, update={"priority": priority})


def _hold(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    todo = _targets(order, intent, can_strike)
    if not todo:
        return Rejection(f"Nothing to hold{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    update = {"held": True, "fired_at": None}
    return _with_items(order, lambda i: i.model_copy(update=update) if i.id in targets else None)


def _fire(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    todo = _targets(order, intent, lambda i: i.held and i.status is not ItemStatus.voided)
    if not todo:
        return Rejection(f"Nothing on hold{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    update = {"held": False, "fired_at": _provisional_fired_at(order, intent)}
    return _with_items(order, lambda i: i.model_copy(update=update) if i.id in targets else None)


def _ack_change(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    todo = _targets(order, intent, lambda i: i.changed_after_send)
    if not todo:
        return Rejection(f"No changes to acknowledge{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    return _with_items(order, lambda i: i.model_copy(update={"changed_after_send": False}) if i.id in targets else None)


def transfer_target(intent: Intent) -> str | Rejection:
    """`args.to` of a transfer: the station to move to, or why it is not one. The machine checks its form only;
    whether the kitchen has such a station is the server's to say (it knows the restaurant's stations)."""
    to = intent.args.get("to")
    if to is None:
        return Rejection("transfer needs args.to, the station to move to")
    if not isinstance(to, str) or _STATION.fullmatch(to) is None:
        return Rejection(f"args.to must be a station name (a-z, 0-9, _ and -), not {_shown(to)}")
    return to


def _transfer(order: OrderWithItems, intent: Intent, _role: DeviceRole) -> _Draft | Rejection:
    """Moves one item, or a station's open items (the whole order's without a station), to the station `args.to`.
    Done and voided items stay where they were made or dropped; an item keeps its status, hold and change flag
    (the new station's cook sees it as the old one left it). Moving it back is the same intent the other way."""
    to = transfer_target(intent)
    if isinstance(to, Rejection):
        return to
    if intent.item_id is not None:
        item = _find_item(order, intent)
        if isinstance(item, Rejection):
            return item
        if item.status is ItemStatus.voided:
            return Rejection(f"{item.name} was voided")
        if item.status is ItemStatus.done:
            return Rejection(f"{item.name} is already done")
        if item.station == to:
            return Rejection(f"{item.name} is already at {to}")
        return _with_items(order, lambda i: _moved(i, to) if i.id == item.id else None)
    if intent.station == to:
        return Rejection(f"Order {order.number} is already at {to}")
    todo = _targets(order, intent, lambda i: is_open(i) and i.station != to)
    if not todo:
        return Rejection(f"Nothing to transfer{_where(intent.station)} on order {order.number}")
    targets = {i.id for i in todo}
    return _with_items(order, lambda i: _moved(i, to) if i.id in targets else None)


def moved_from(item: OrderItemPublic, to: str) -> str | None:
    """Where an item moved to `to` came from, as its card marks it ("← GRILL"): the station it was sent to, kept
    through further moves (it is still the grill's burger at the fry and then at the flat-top), and none once it
    is back there. The SQL twin is kds.mark_moved_from (supabase/migrations/20261207007000_moved_from.sql)."""
    origin = item.moved_from or item.station
    return None if origin == to else origin


def _moved(item: OrderItemPublic, to: str) -> OrderItemPublic:
    return item.model_copy(update={"station": to, "moved_from": moved_from(item, to)})


_STATION = re.compile(r"[a-z0-9_-]{1,40}")
"""A station's name, as `models.Station` and the SQL's check allow it."""

_BUMPS = frozenset({IntentKind.bump_item, IntentKind.bump_ticket})

_TICK = timedelta(microseconds=1)
"""The finest step of a done time (PostgreSQL's timestamptz): what keeps one intent's done time after another's."""
_NO_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""A provisional done time when neither the order nor the intent carries a time (never written anywhere)."""

_HANDLERS: dict[IntentKind, Callable[[OrderWithItems, Intent, DeviceRole], _Draft | Rejection]] = {
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
    IntentKind.transfer: _transfer,
}
