"""The order state machine on its own: `apply_intent` and `derive_status`, no database, no HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_client.models import (
    DeviceRole,
    Intent,
    IntentKind,
    ItemStatus,
    OrderItemPublic,
    OrderStatus,
    OrderWithItems,
    Priority,
)
from api_client.order_machine import Rejection, apply_intent, derive_status

NOW = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
ORDER_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def item(
    name: str,
    station: str,
    status: ItemStatus = ItemStatus.new,
    *,
    course: int = 1,
    held: bool = False,
    changed: bool = False,
) -> OrderItemPublic:
    return OrderItemPublic(
        id=uuid.uuid5(ORDER_ID, name),
        order_id=ORDER_ID,
        restaurant_id="r1",
        station=station,
        name=name,
        quantity=1,
        modifiers=[],
        notes=None,
        allergens=[],
        course=course,
        held=held,
        status=status,
        changed_after_send=changed,
        created_at=NOW,
        updated_at=NOW,
        version=1,
        change_seq=1,
    )


def order(
    *items: OrderItemPublic, status: OrderStatus | None = None, priority: Priority = Priority.normal
) -> OrderWithItems:
    lines = list(items) or [item("Burger", "grill"), item("Fries", "fry")]
    return OrderWithItems(
        id=ORDER_ID,
        restaurant_id="r1",
        number="A17",
        source="pos",
        type="dine_in",
        table_label="12",
        server_name=None,
        guests=2,
        customer_name=None,
        notes=None,
        priority=priority,
        status=status or derive_status(OrderStatus.new, lines),
        created_at=NOW,
        due_at=None,
        updated_at=NOW,
        version=1,
        change_seq=1,
        order_items=lines,
    )


def intent(kind: str, target: OrderWithItems | None = None, item_name: str | None = None, **extra: Any) -> Intent:
    body: dict[str, Any] = {"id": uuid.uuid4(), "device_id": "d1", "device_seq": 1, "kind": kind, **extra}
    if target is not None:
        body["order_id"] = target.id
    if item_name is not None:
        body["item_id"] = uuid.uuid5(ORDER_ID, item_name)
    return Intent.model_validate(body)


def applied(before: OrderWithItems, it: Intent, role: DeviceRole = DeviceRole.kds) -> OrderWithItems:
    outcome = apply_intent(before, it, role)
    assert isinstance(outcome, OrderWithItems), outcome
    return outcome


def rejected(before: OrderWithItems, it: Intent, role: DeviceRole = DeviceRole.kds) -> str:
    outcome = apply_intent(before, it, role)
    assert isinstance(outcome, Rejection), outcome
    return outcome.reason


def statuses(o: OrderWithItems) -> dict[str, str]:
    return {i.name: i.status.value for i in o.order_items}


# ---------------------------------------------------------------- derive_status

N, C, D, V = ItemStatus.new, ItemStatus.cooking, ItemStatus.done, ItemStatus.voided


@pytest.mark.parametrize(
    ("current", "item_statuses", "expected"),
    [
        (OrderStatus.new, [N, N], OrderStatus.new),
        (OrderStatus.new, [C, N], OrderStatus.in_progress),
        (OrderStatus.new, [D, N], OrderStatus.in_progress),
        (OrderStatus.new, [D, D], OrderStatus.ready),
        (OrderStatus.new, [D, V], OrderStatus.ready),
        (OrderStatus.in_progress, [N, N], OrderStatus.in_progress),
        (OrderStatus.ready, [D, C], OrderStatus.in_progress),
        (OrderStatus.ready, [D, D, N], OrderStatus.in_progress),
        (OrderStatus.new, [V, V], OrderStatus.new),
        (OrderStatus.in_progress, [V], OrderStatus.in_progress),
        (OrderStatus.served, [C, N], OrderStatus.served),
        (OrderStatus.cancelled, [D, D], OrderStatus.cancelled),
    ],
)
def test_derive_status(current: OrderStatus, item_statuses: list[ItemStatus], expected: OrderStatus) -> None:
    items = [item(f"i{n}", "grill", s) for n, s in enumerate(item_statuses)]
    assert derive_status(current, items) is expected


def test_derive_status_counts_held_items_as_outstanding() -> None:
    items = [item("Burger", "grill", D), item("Cake", "pastry", N, held=True)]
    assert derive_status(OrderStatus.in_progress, items) is OrderStatus.in_progress


# ---------------------------------------------------------------- each kind


def test_start_whole_order_and_station() -> None:
    o = order()
    assert statuses(applied(o, intent("start", o))) == {"Burger": "cooking", "Fries": "cooking"}
    grill = applied(o, intent("start", o, station="grill"))
    assert statuses(grill) == {"Burger": "cooking", "Fries": "new"}
    assert grill.status is OrderStatus.in_progress
    assert rejected(grill, intent("start", o, station="grill")) == "Nothing new to start at grill on order A17"


def test_start_one_item_and_course_and_skips_held() -> None:
    o = order(item("Soup", "saute"), item("Steak", "grill", course=2), item("Cake", "pastry", course=3, held=True))
    assert statuses(applied(o, intent("start", o, "Steak"))) == {"Soup": "new", "Steak": "cooking", "Cake": "new"}
    assert statuses(applied(o, intent("start", o, args={"course": 1}))) == {
        "Soup": "cooking",
        "Steak": "new",
        "Cake": "new",
    }
    assert statuses(applied(o, intent("start", o)))["Cake"] == "new"
    assert "Nothing new to start" in rejected(o, intent("start", o, "Cake"))


def test_bump_and_unbump_item() -> None:
    o = order()
    one = applied(o, intent("bump_item", o, "Burger"))
    assert statuses(one) == {"Burger": "done", "Fries": "new"} and one.status is OrderStatus.in_progress
    both = applied(one, intent("bump_item", o, "Fries"))
    assert both.status is OrderStatus.ready
    assert rejected(both, intent("bump_item", o, "Fries")) == "Fries is already done"
    back = applied(both, intent("unbump_item", o, "Fries"))
    assert statuses(back) == {"Burger": "done", "Fries": "cooking"} and back.status is OrderStatus.in_progress
    assert rejected(back, intent("unbump_item", o, "Fries")) == "Fries is not done"


def test_bump_item_rejections() -> None:
    o = order(item("Burger", "grill", held=True), item("Fries", "fry", V))
    assert rejected(o, intent("bump_item", o, "Burger")) == "Burger is on hold: fire it first"
    assert rejected(o, intent("bump_item", o, "Fries")) == "Fries was voided"
    assert rejected(o, intent("bump_item", o, "Shake")) == "That item is no longer on order A17"
    assert rejected(o, intent("bump_item", o)) == "bump_item needs an item"
    assert rejected(o, intent("unbump_item", o)) == "unbump_item needs an item"


def test_bump_ticket_station_and_all() -> None:
    o = order(
        item("Burger", "grill", C), item("Ribs", "grill"), item("Fries", "fry"), item("Cake", "pastry", held=True)
    )
    grill = applied(o, intent("bump_ticket", o, station="grill"))
    assert statuses(grill) == {"Burger": "done", "Ribs": "done", "Fries": "new", "Cake": "new"}
    everything = applied(o, intent("bump_ticket", o))
    assert statuses(everything) == {"Burger": "done", "Ribs": "done", "Fries": "done", "Cake": "new"}
    assert everything.status is OrderStatus.in_progress, "a held item keeps the order open"
    assert rejected(grill, intent("bump_ticket", o, station="grill")) == "Nothing left to bump at grill on order A17"
    assert rejected(order(item("Cake", "pastry", held=True)), intent("bump_ticket", o)) == (
        "Nothing left to bump on order A17"
    )


def test_recall() -> None:
    ready = order(item("Burger", "grill", D), item("Fries", "fry", D))
    assert ready.status is OrderStatus.ready
    grill = applied(ready, intent("recall", ready, station="grill"))
    assert statuses(grill) == {"Burger": "cooking", "Fries": "done"} and grill.status is OrderStatus.in_progress
    assert statuses(applied(ready, intent("recall", ready))) == {"Burger": "cooking", "Fries": "cooking"}
    assert rejected(grill, intent("recall", ready, station="grill")) == "Nothing to recall at grill on order A17"
    assert rejected(order(), intent("recall", ready)) == "Nothing to recall on order A17"


def test_recall_undoes_the_last_bump_only() -> None:
    """A cook struck the steak, bumped the ticket and recalls it: the burger the bump finished cooks again, the
    steak stays struck. On a screen the three taps may all be pending (no server time yet, no device time on the
    intents): the machine's provisional done times still order them."""
    three = order(item("Burger", "grill"), item("Steak", "grill"), item("Fries", "fry"))
    for created_at in (None, NOW):
        struck = applied(three, intent("bump_item", three, "Steak", created_at=created_at))
        bumped = applied(struck, intent("bump_ticket", struck, station="grill", created_at=created_at))
        recalled = applied(bumped, intent("recall", bumped, station="grill", created_at=created_at))
        assert statuses(recalled) == {"Burger": "cooking", "Steak": "done", "Fries": "new"}
        assert recalled.order_items[0].done_at is None, "a reopened item has no done time"
        # A second recall goes one step further back: the strike.
        again = applied(recalled, intent("recall", recalled, station="grill"))
        assert statuses(again) == {"Burger": "cooking", "Steak": "cooking", "Fries": "new"}
    # Server times: the bump's items share the latest one, whatever the order of the items.
    early, late = NOW, NOW + timedelta(microseconds=1)
    stamped = order(
        item("Burger", "grill", D).model_copy(update={"done_at": late}),
        item("Steak", "grill", D).model_copy(update={"done_at": early}),
        item("Ribs", "grill", D).model_copy(update={"done_at": late}),
    )
    assert statuses(applied(stamped, intent("recall", stamped, station="grill"))) == {
        "Burger": "cooking",
        "Steak": "done",
        "Ribs": "cooking",
    }
    # A pending bump on a stamped order comes after the stamps (even with a device clock behind the server's).
    struck = applied(stamped, intent("unbump_item", stamped, "Burger"))
    rebumped = applied(struck, intent("bump_ticket", struck, station="grill", created_at=NOW - timedelta(hours=1)))
    recalled = applied(rebumped, intent("recall", rebumped, station="grill"))
    assert statuses(recalled) == {"Burger": "cooking", "Steak": "done", "Ribs": "done"}


def test_recall_of_a_served_order() -> None:
    served = order(item("Burger", "grill", D), item("Fries", "fry", D), status=OrderStatus.served)
    by_expo = applied(served, intent("recall", served), DeviceRole.expo)
    assert by_expo.status is OrderStatus.ready and statuses(by_expo) == {"Burger": "done", "Fries": "done"}
    at_grill = applied(served, intent("recall", served, station="grill"))
    assert at_grill.status is OrderStatus.in_progress and statuses(at_grill) == {"Burger": "cooking", "Fries": "done"}


def test_serve() -> None:
    ready = order(item("Burger", "grill", D), item("Fries", "fry", D))
    assert applied(ready, intent("serve", ready), DeviceRole.expo).status is OrderStatus.served
    assert applied(ready, intent("serve", ready), DeviceRole.admin).status is OrderStatus.served
    assert rejected(ready, intent("serve", ready), DeviceRole.kds) == "Only expo can serve an order"
    waiting = order(item("Burger", "grill", C), item("Fries", "fry"), item("Salad", "cold", D))
    assert rejected(waiting, intent("serve", waiting), DeviceRole.expo) == (
        "Order A17 is not ready: waiting on fry, grill"
    )
    nothing_open = order(item("Burger", "grill", V))
    assert rejected(nothing_open, intent("serve", nothing_open), DeviceRole.expo) == "Order A17 is not ready"


def test_rush() -> None:
    o = order()
    rushed = applied(o, intent("rush", o), DeviceRole.expo)
    assert rushed.priority is Priority.rush and rushed.status is o.status
    assert rejected(rushed, intent("rush", o), DeviceRole.expo) == "Order A17 is already rushed"
    calm = applied(rushed, intent("rush", o, args={"priority": "normal"}), DeviceRole.expo)
    assert calm.priority is Priority.normal
    assert rejected(calm, intent("rush", o, args={"priority": "normal"})) == "Order A17 is already at normal priority"
    assert rejected(o, intent("rush", o, args={"priority": "asap"})) == "Unknown priority 'asap'"
    long = rejected(o, intent("rush", o, args={"priority": "z" * 10_000}))
    assert long.startswith("Unknown priority 'zzz") and len(long) < 80


def test_hold_and_fire() -> None:
    o = order(item("Soup", "saute"), item("Steak", "grill", C, course=2), item("Cake", "pastry", course=3, held=True))
    held = applied(o, intent("hold", o, "Steak"))
    assert [i.held for i in held.order_items] == [False, True, True]
    assert rejected(held, intent("hold", o, "Steak")) == "Nothing to hold on order A17"
    assert rejected(held, intent("bump_item", o, "Steak")) == "Steak is on hold: fire it first"
    by_course = applied(held, intent("fire", o, args={"course": 3}))
    assert [i.held for i in by_course.order_items] == [False, True, False]
    everything = applied(by_course, intent("fire", o))
    assert [i.held for i in everything.order_items] == [False, False, False]
    assert rejected(everything, intent("fire", o)) == "Nothing on hold on order A17"
    assert rejected(everything, intent("fire", o, station="grill")) == "Nothing on hold at grill on order A17"
    done = order(item("Burger", "grill", D))
    assert rejected(done, intent("hold", done, "Burger")) == "Nothing to hold on order A17"


@pytest.mark.parametrize("course", ["2", 0, 10, True, 2.0, [2], {"n": 2}])
@pytest.mark.parametrize("kind", ["start", "hold", "fire", "ack_change"])
def test_malformed_course_is_rejected_not_widened(kind: str, course: object) -> None:
    o = order(
        item("Soup", "saute", changed=True),
        item("Steak", "grill", course=2, held=True, changed=True),
        item("Ribs", "grill", course=3, changed=True),
    )
    reason = rejected(o, intent(kind, o, args={"course": course}))
    assert reason.startswith("args.course must be a course number from 1 to 9")


def test_null_course_means_every_course() -> None:
    o = order(item("Soup", "saute"), item("Steak", "grill", course=2))
    assert statuses(applied(o, intent("start", o, args={"course": None}))) == {"Soup": "cooking", "Steak": "cooking"}


def test_bump_ticket_acknowledges_the_changes_on_its_ticket() -> None:
    o = order(
        item("Burger", "grill", C),
        item("Steak", "grill", changed=True),
        item("Salad", "grill", V, changed=True),
        item("Ribs", "grill", course=2, held=True, changed=True),
        item("Fries", "fry", changed=True),
    )
    grill = applied(o, intent("bump_ticket", o, station="grill"))
    assert statuses(grill) == {"Burger": "done", "Steak": "done", "Salad": "voided", "Ribs": "new", "Fries": "new"}
    assert {i.name: i.changed_after_send for i in grill.order_items} == {
        "Burger": False, "Steak": False, "Salad": False, "Ribs": False, "Fries": True,  # the fryer's is the fryer's
    }
    assert next(i for i in grill.order_items if i.name == "Ribs").held, "acknowledged, still held"
    everything = applied(o, intent("bump_ticket", o), DeviceRole.expo)
    assert not any(i.changed_after_send for i in everything.order_items)
    # Nothing to bump: rejected, and the change stays for the cook to acknowledge.
    only_a_void = order(item("Burger", "grill", D), item("Salad", "grill", V, changed=True))
    assert rejected(only_a_void, intent("bump_ticket", only_a_void, station="grill")) == (
        "Nothing left to bump at grill on order A17"
    )


def test_ack_change() -> None:
    o = order(item("Burger", "grill", changed=True), item("Fries", "fry", changed=True))
    fry = applied(o, intent("ack_change", o, station="fry"))
    assert [i.changed_after_send for i in fry.order_items] == [True, False]
    assert rejected(fry, intent("ack_change", o, station="fry")) == "No changes to acknowledge at fry on order A17"
    one = applied(o, intent("ack_change", o, "Burger"))
    assert [i.changed_after_send for i in one.order_items] == [False, True]


def test_final_orders() -> None:
    cancelled = order(item("Burger", "grill", changed=True), status=OrderStatus.cancelled)
    for kind in ("start", "bump_ticket", "recall", "rush", "hold", "serve"):
        assert rejected(cancelled, intent(kind, cancelled), DeviceRole.expo) == "Order A17 was cancelled"
    acked = applied(cancelled, intent("ack_change", cancelled))
    assert acked.status is OrderStatus.cancelled and not acked.order_items[0].changed_after_send
    served = order(item("Burger", "grill", D), status=OrderStatus.served)
    for kind in ("start", "bump_ticket", "unbump_item", "rush", "fire", "serve", "ack_change"):
        assert rejected(served, intent(kind, served, "Burger"), DeviceRole.expo) == "Order A17 was already served"


def test_roles_and_kinds_outside_the_machine() -> None:
    o = order()
    assert rejected(o, intent("start", o), DeviceRole.pos) == "a pos device cannot change tickets"
    assert rejected(o, intent("eighty_six", o, args={"item_name": "Fries"})) == "eighty_six does not act on an order"


# ---------------------------------------------------------------- properties over any order and any intent

ITEM_NAMES = ["Burger", "Fries", "Cake", "Soup"]
STATIONS = ["grill", "fry", "pastry"]


@st.composite
def orders(draw: st.DrawFn) -> OrderWithItems:
    names = draw(st.lists(st.sampled_from(ITEM_NAMES), min_size=1, max_size=4, unique=True))
    lines = [
        item(
            name,
            draw(st.sampled_from(STATIONS)),
            draw(st.sampled_from(list(ItemStatus))),
            course=draw(st.integers(1, 3)),
            held=draw(st.booleans()),
            changed=draw(st.booleans()),
        )
        for name in names
    ]
    status = draw(st.sampled_from([None, OrderStatus.served, OrderStatus.cancelled]))
    return order(*lines, status=status, priority=draw(st.sampled_from(list(Priority))))


@st.composite
def intents(draw: st.DrawFn) -> Intent:
    args: dict[str, Any] = {}
    if draw(st.booleans()):
        args["course"] = draw(st.one_of(st.integers(0, 4), st.just("2")))
    if draw(st.booleans()):
        args["priority"] = draw(st.sampled_from(["rush", "normal", "asap"]))
    extra: dict[str, Any] = {"args": args}
    station = draw(st.sampled_from([None, *STATIONS]))
    if station:
        extra["station"] = station
    kind = draw(st.sampled_from([k.value for k in IntentKind]))
    return intent(kind, None, draw(st.sampled_from([None, *ITEM_NAMES, "Shake"])), order_id=ORDER_ID, **extra)


@settings(max_examples=300, deadline=None)
@given(before=orders(), it=intents(), role=st.sampled_from(list(DeviceRole)))
def test_apply_intent_is_pure_and_only_touches_what_it_may(
    before: OrderWithItems, it: Intent, role: DeviceRole
) -> None:
    snapshot = before.model_dump()
    intent_snapshot = it.model_dump()
    outcome = apply_intent(before, it, role)
    assert before.model_dump() == snapshot, "the input order was mutated"
    assert it.model_dump() == intent_snapshot, "the intent was mutated"
    assert apply_intent(before, it, role) == outcome, "not deterministic"
    if isinstance(outcome, Rejection):
        assert outcome.reason and len(outcome.reason) <= 200
        return
    assert outcome is not before
    assert role in (DeviceRole.kds, DeviceRole.expo, DeviceRole.admin)
    assert before.status is not OrderStatus.cancelled or it.kind is IntentKind.ack_change
    assert before.status is not OrderStatus.served or it.kind is IntentKind.recall
    # Only the kitchen's columns change; ids, order and everything else of every row stay.
    kitchen_order = {"status", "priority"}
    # done_at: a screen's provisional done time, which a pending recall reads (the servers stamp their own).
    # fired_at: when a held course went to the kitchen, as the screen guesses it (fire timing; servers stamp theirs).
    kitchen_item = {"status", "held", "changed_after_send", "done_at", "fired_at"}
    assert {k: v for k, v in outcome.model_dump().items() if k not in kitchen_order | {"order_items"}} == {
        k: v for k, v in snapshot.items() if k not in kitchen_order | {"order_items"}
    }
    assert [i.id for i in outcome.order_items] == [i.id for i in before.order_items]
    for old, new in zip(before.order_items, outcome.order_items, strict=True):
        assert {k: v for k, v in new.model_dump().items() if k not in kitchen_item} == {
            k: v for k, v in old.model_dump().items() if k not in kitchen_item
        }
        if old.status is ItemStatus.voided:
            assert new.status is ItemStatus.voided, "a voided item never comes back"
        if new.held is not old.held:
            assert (new.fired_at is None) is new.held, "a fire time from the fire, none while held"
        else:
            assert new.fired_at == old.fired_at, "a fire time changes with the hold only"
        if new.status is not old.status:
            assert (new.done_at is not None) is (new.status is ItemStatus.done), "a done time while done only"
        else:
            assert new.done_at == old.done_at, "a done time changes with the status only"
    changed = outcome.model_dump() != snapshot
    assert changed, f"{it.kind.value} was applied but changed nothing"
    # The order's status follows its items, except where serve and recall of a served order decide it.
    if it.kind is IntentKind.serve:
        assert before.status is OrderStatus.ready and outcome.status is OrderStatus.served
    elif before.status is OrderStatus.served:
        assert outcome.status in (OrderStatus.ready, OrderStatus.in_progress)
    else:
        assert outcome.status is derive_status(before.status, outcome.order_items)
