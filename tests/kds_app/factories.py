"""Orders as a screen holds them, for the tests that need no server (model, layout, delegate)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api_client.models import ItemStatus, OrderItemPublic, OrderStatus, OrderWithItems, Priority

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def item(
    order_id: uuid.UUID,
    name: str = "Burger",
    station: str = "grill",
    *,
    status: ItemStatus = ItemStatus.new,
    allergens: tuple[str, ...] = (),
    modifiers: tuple[str, ...] = (),
    changed: bool = False,
    held: bool = False,
    course: int = 1,
) -> OrderItemPublic:
    return OrderItemPublic(
        id=uuid.uuid4(), order_id=order_id, restaurant_id="r1", station=station, name=name, quantity=1,
        modifiers=list(modifiers), notes=None, allergens=list(allergens), course=course, held=held, status=status,
        changed_after_send=changed, created_at=NOW, updated_at=NOW, version=1, change_seq=1,
    )


def order(
    number: str, *items: tuple[str, str], age_s: float = 60, rush: bool = False, **item_kw: object
) -> OrderWithItems:
    oid = uuid.uuid4()
    wanted = items or (("Burger", "grill"),)
    made = [item(oid, name, station, **item_kw) for name, station in wanted]  # type: ignore[arg-type]
    return OrderWithItems(
        id=oid, restaurant_id="r1", number=number, source="pos", type="dine_in", table_label="12", server_name="Anna",
        guests=2, customer_name=None, notes=None, priority=Priority.rush if rush else Priority.normal,
        status=OrderStatus.new, created_at=NOW - timedelta(seconds=age_s), due_at=None, updated_at=NOW, version=1,
        change_seq=1, order_items=made,
    )
