"""Fire timing on its own (issue 19 item 1): `api_client.fire_timing` derives each item's fire time from the rows,
and the order machine stamps when a held course goes to the kitchen. No database, no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api_client.fire_timing import fire_times, format_countdown, planned_fire_times, waiting
from api_client.models import DeviceRole, Intent, IntentKind, ItemStatus, OrderItemPublic, OrderWithItems
from api_client.order_machine import apply_intent

SENT = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
ORDER_ID = uuid.UUID("00000000-0000-4000-8000-00000000f1fe")


def line(
    name: str,
    prep: int | None,
    *,
    course: int = 1,
    held: bool = False,
    status: ItemStatus = ItemStatus.new,
    fired: datetime | None = SENT,
    done_at: datetime | None = None,
) -> OrderItemPublic:
    return OrderItemPublic(
        id=uuid.uuid5(ORDER_ID, name),
        order_id=ORDER_ID,
        restaurant_id="r1",
        station="grill",
        name=name,
        quantity=1,
        modifiers=[],
        notes=None,
        allergens=[],
        course=course,
        held=held,
        status=status,
        changed_after_send=False,
        created_at=SENT,
        updated_at=SENT,
        version=1,
        change_seq=1,
        done_at=done_at,
        prep_seconds=prep,
        fired_at=None if held else fired,
    )


def an_order(*items: OrderItemPublic) -> OrderWithItems:
    return OrderWithItems(
        id=ORDER_ID,
        restaurant_id="r1",
        number="F1",
        source="pos",
        type="dine_in",
        table_label=None,
        server_name=None,
        guests=None,
        customer_name=None,
        notes=None,
        priority="normal",
        status="new",
        created_at=SENT,
        due_at=None,
        updated_at=SENT,
        version=1,
        change_seq=1,
        order_items=list(items),
    )


def by_name(order: OrderWithItems, times: dict[uuid.UUID, datetime]) -> dict[str, datetime]:
    names = {i.id: i.name for i in order.order_items}
    return {names[item_id]: at for item_id, at in times.items()}


def test_the_longest_item_starts_at_once_and_the_others_fire_so_all_finish_together() -> None:
    order = an_order(line("Ribeye", 600), line("Fries", 180), line("Salad", 60), line("Soda", None))
    assert by_name(order, fire_times(order.order_items)) == {
        "Fries": SENT + timedelta(seconds=420),
        "Salad": SENT + timedelta(seconds=540),
    }
    at = SENT + timedelta(seconds=170)
    assert sorted(waiting(order, at).values()) == [250.0, 370.0]
    # Fired on their own, with no write anywhere: nothing waits once its time has passed.
    assert waiting(order, SENT + timedelta(seconds=540)) == {}


def test_a_started_item_held_course_or_voided_item_never_waits() -> None:
    order = an_order(
        line("Ribeye", 600),
        line("Fries", 180, status=ItemStatus.cooking),  # a cook fired it now
        line("Salad", 60, status=ItemStatus.voided),
        line("Cake", 120, course=2, held=True),
    )
    assert fire_times(order.order_items) == {}


def test_bumping_the_longest_item_early_fires_the_rest_at_once() -> None:
    bumped = SENT + timedelta(seconds=300)
    order = an_order(line("Ribeye", 600, status=ItemStatus.done, done_at=bumped), line("Fries", 180))
    assert by_name(order, fire_times(order.order_items)) == {"Fries": bumped - timedelta(seconds=180)}
    assert waiting(order, bumped) == {}


def test_items_sent_together_are_one_group_and_a_late_addition_is_its_own() -> None:
    order = an_order(
        line("Ribeye", 600),
        line("Fries", 180, fired=SENT + timedelta(seconds=8)),  # the POS's second request
        line("Side salad", 60, fired=SENT + timedelta(minutes=5)),  # added later: fires at once
        line("Dessert", 300, course=2, fired=SENT),  # another course: its own group
    )
    assert by_name(order, fire_times(order.order_items)) == {"Fries": SENT + timedelta(seconds=420)}


def test_history_knows_a_done_items_fire_time() -> None:
    order = an_order(line("Ribeye", 600, status=ItemStatus.done), line("Fries", 180, status=ItemStatus.done))
    assert fire_times(order.order_items) == {}
    assert by_name(order, planned_fire_times(order.order_items)) == {"Fries": SENT + timedelta(seconds=420)}


def intent(kind: IntentKind, *, at: datetime, **fields: object) -> Intent:
    return Intent.model_validate(
        {
            "id": str(uuid.uuid4()),
            "device_id": "expo-1",
            "device_seq": 1,
            "kind": kind.value,
            "order_id": str(ORDER_ID),
            "created_at": at.isoformat(),
            **fields,
        }
    )


def test_the_machine_stamps_a_fired_course_and_clears_a_held_one() -> None:
    fired = SENT + timedelta(minutes=20)
    order = an_order(
        line("Soup", 300), line("Ribeye", 600, course=2, held=True), line("Fries", 180, course=2, held=True)
    )
    after = apply_intent(order, intent(IntentKind.fire, at=fired, args={"course": 2}), DeviceRole.expo)
    assert isinstance(after, OrderWithItems)
    assert {i.name: i.fired_at for i in after.order_items} == {"Soup": SENT, "Ribeye": fired, "Fries": fired}
    assert by_name(after, fire_times(after.order_items)) == {"Fries": fired + timedelta(seconds=420)}
    held = apply_intent(after, intent(IntentKind.hold, at=fired, args={"course": 2}), DeviceRole.expo)
    assert isinstance(held, OrderWithItems)
    assert {i.name: i.fired_at for i in held.order_items} == {"Soup": SENT, "Ribeye": None, "Fries": None}


def test_the_bump_that_finishes_a_course_stamps_the_next_one_as_it_fires() -> None:
    bumped = SENT + timedelta(minutes=12)
    order = an_order(line("Soup", 300), line("Ribeye", 600, course=2, held=True))
    soup = order.order_items[0]
    after = apply_intent(
        order, intent(IntentKind.bump_item, at=bumped, item_id=str(soup.id), station="grill"), DeviceRole.kds
    )
    assert isinstance(after, OrderWithItems)
    assert {i.name: (i.held, i.fired_at) for i in after.order_items} == {
        "Soup": (False, SENT),
        "Ribeye": (False, bumped),
    }


def test_a_countdown_reads_minutes_and_seconds_rounded_up() -> None:
    assert [format_countdown(s) for s in (250.0, 249.2, 59.01, 0.4, 0.0, -3.0, 3600.0)] == [
        "4:10",
        "4:10",
        "1:00",
        "0:01",
        "0:00",
        "0:00",
        "60:00",
    ]
