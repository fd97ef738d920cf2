"""overlay: the server row becomes the base, pending intents stay on top, rejected ones are skipped."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api_client.models import DeviceRole, Intent, IntentKind, ItemStatus, OrderStatus
from sync.readpath.merge import LocalState, Upsert
from sync.readpath.overlay import displayed_order, displayed_orders

from .rows import item, order, uid, with_items

_seq = iter(range(1, 10_000))
ORDER_1 = uid(1)


def intent(kind: IntentKind, order_id: UUID = ORDER_1, **fields: Any) -> Intent:
    return Intent(id=uuid4(), device_id="kds-1", device_seq=next(_seq), kind=kind, order_id=order_id, **fields)


def base(seq: int = 10, **item_fields: Any):
    return with_items(order(1, seq), [item(10, 1, seq - 1, **item_fields), item(11, 1, seq - 2, station="fry")])


def test_no_pending_intents_shows_the_base() -> None:
    b = base()
    assert displayed_order(b, [], DeviceRole.kds) == b


def test_pending_intents_are_replayed_in_order() -> None:
    shown = displayed_order(
        base(),
        [intent(IntentKind.start, station="grill"), intent(IntentKind.bump_item, item_id=uid(10))],
        DeviceRole.kds,
    )
    statuses = {i.id: i.status for i in shown.order_items}
    assert statuses == {uid(10): ItemStatus.done, uid(11): ItemStatus.new}
    assert shown.status is OrderStatus.in_progress


def test_an_intent_the_new_base_rejects_is_skipped_and_the_rest_still_apply() -> None:
    # Someone else already bumped item 10 on the server; our bump now rejects, our rush still shows.
    server = base(seq=20, status="done")
    shown = displayed_order(
        server, [intent(IntentKind.bump_item, item_id=uid(10)), intent(IntentKind.rush)], DeviceRole.kds
    )
    assert shown.priority.value == "rush"
    assert {i.id: i.status for i in shown.order_items}[uid(10)] is ItemStatus.done
    assert shown.change_seq == 20  # the server's base, not a stale one


def test_another_orders_intent_is_never_applied_here() -> None:
    shown = displayed_order(base(), [intent(IntentKind.rush, order_id=uid(2))], DeviceRole.kds)
    assert shown.priority.value == "normal"


def test_stream_event_updates_the_base_but_not_the_display_of_a_protected_order() -> None:
    state = LocalState()
    state.apply_all(Upsert(r) for r in [order(1, 10), item(10, 1, 9), item(11, 1, 8, station="fry")])
    pending = {uid(1): [intent(IntentKind.bump_item, item_id=uid(10))]}
    # A push arrives from the server: the fry item started cooking, our bump is not confirmed yet.
    state.apply(Upsert(item(11, 1, 12, version=2, station="fry", status="cooking")))
    shown = displayed_orders(state, [uid(1), uid(2)], pending.__contains__, lambda o: pending[o], DeviceRole.kds)
    assert shown[uid(2)] is None
    got = {i.id: i.status for i in shown[uid(1)].order_items}
    assert got == {uid(10): ItemStatus.done, uid(11): ItemStatus.cooking}  # ours on top of the new base
    # The base itself is the server's: when the intent resolves, this is what it rests on.
    assert {i.id: i.status for i in state.order(uid(1)).order_items}[uid(10)] is ItemStatus.new
    # Once the intent has left the outbox, the order is unprotected and shows the server's row.
    pending.clear()
    unprotected = displayed_orders(state, [uid(1)], pending.__contains__, lambda o: [], DeviceRole.kds)
    assert unprotected[uid(1)] == state.order(uid(1))
