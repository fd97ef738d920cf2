"""Row and push builders for the read-path tests (plain models, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api_client.models import (
    MenuAvailabilityChange,
    MenuAvailabilityPublic,
    OrderChange,
    OrderItemChange,
    OrderItemPublic,
    OrderPublic,
    OrderWithItems,
)
from sync.readpath.merge import Row, Table

T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
R1 = "r1"


def uid(n: int) -> UUID:
    return UUID(int=n)


def order(n: int, seq: int, version: int = 1, restaurant: str = R1, **extra: Any) -> OrderPublic:
    return OrderPublic.model_validate(
        {
            "id": uid(n),
            "restaurant_id": restaurant,
            "number": f"A{n}",
            "source": "pos",
            "type": "dine_in",
            "table_label": None,
            "server_name": None,
            "guests": None,
            "customer_name": None,
            "notes": None,
            "priority": "normal",
            "status": "new",
            "created_at": T0,
            "due_at": None,
            "updated_at": T0,
            "version": version,
            "change_seq": seq,
            **extra,
        }
    )


def item(n: int, order_n: int, seq: int, version: int = 1, restaurant: str = R1, **extra: Any) -> OrderItemPublic:
    return OrderItemPublic.model_validate(
        {
            "id": uid(n),
            "order_id": uid(order_n),
            "restaurant_id": restaurant,
            "station": "grill",
            "name": f"item {n}",
            "quantity": 1,
            "modifiers": [],
            "notes": None,
            "allergens": [],
            "course": 1,
            "held": False,
            "status": "new",
            "changed_after_send": False,
            "created_at": T0,
            "updated_at": T0,
            "version": version,
            "change_seq": seq,
            **extra,
        }
    )


def menu(n: int, seq: int, version: int = 1, restaurant: str = R1, available: bool = False) -> MenuAvailabilityPublic:
    return MenuAvailabilityPublic.model_validate(
        {
            "id": uid(n),
            "restaurant_id": restaurant,
            "item_name": f"dish {n}",
            "available": available,
            "reason": None,
            "updated_by": None,
            "updated_at": T0,
            "version": version,
            "change_seq": seq,
        }
    )


def with_items(head: OrderPublic, items: list[OrderItemPublic]) -> OrderWithItems:
    return OrderWithItems.model_validate({**head.model_dump(), "order_items": [i.model_dump() for i in items]})


_CHANGE_MODELS = {"orders": OrderChange, "order_items": OrderItemChange, "menu_availability": MenuAvailabilityChange}


def push(row: Row, kind: str = "UPDATE") -> OrderChange | OrderItemChange | MenuAvailabilityChange:
    """A realtime push for `row`, as `sync.realtime.changes.parse_change` would return it."""
    table = _table(row)
    return _CHANGE_MODELS[table].model_validate(
        {
            "schema": "public",
            "table": table,
            "commit_timestamp": "2026-11-21T18:00:00.000Z",
            "type": kind,
            "columns": [],
            "record": row.model_dump(mode="json"),
            "old_record": None if kind == "INSERT" else {"id": str(row.id)},
        }
    )


def delete_push(table: Table, row_id: UUID, **old: Any) -> OrderChange | OrderItemChange | MenuAvailabilityChange:
    return _CHANGE_MODELS[table].model_validate(
        {
            "schema": "public",
            "table": table,
            "commit_timestamp": "2026-11-21T18:00:00.000Z",
            "type": "DELETE",
            "columns": [],
            "record": None,
            "old_record": {"id": str(row_id), **old},
        }
    )


def _table(row: Row) -> Table:
    if isinstance(row, OrderPublic):
        return "orders"
    if isinstance(row, OrderItemPublic):
        return "order_items"
    return "menu_availability"
