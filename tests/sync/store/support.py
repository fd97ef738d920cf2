"""Builders for the write-path tests: server orders as the companion would send them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api_client.models import Intent, IntentKind, OrderWithItems

NOW = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)


def item(order_id: uuid.UUID, name: str = "Burger", station: str = "grill", **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "order_id": str(order_id),
        "restaurant_id": "r1",
        "station": station,
        "name": name,
        "quantity": 1,
        "modifiers": [],
        "notes": None,
        "allergens": [],
        "course": 1,
        "held": False,
        "status": "new",
        "changed_after_send": False,
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "version": 1,
        "change_seq": 2,
        **fields,
    }


def order(number: str = "A1", items: int = 2, **fields: Any) -> OrderWithItems:
    order_id = uuid.uuid4()
    # Distinct creation times: the store lists items by (created_at, id), so tests can index them.
    later = (NOW + timedelta(seconds=1)).isoformat()
    lines = [item(order_id, "Burger", "grill"), item(order_id, "Fries", "fry", created_at=later)][:items]
    return order_with(order_id, lines, number=number, **fields)


def order_with(order_id: uuid.UUID, lines: list[dict[str, Any]], **fields: Any) -> OrderWithItems:
    """Order `order_id` holding the item rows `lines` (built with `item`); `fields` override the order's."""
    return OrderWithItems.model_validate(
        {
            "id": str(order_id),
            "restaurant_id": "r1",
            "number": "A1",
            "source": "pos",
            "type": "dine_in",
            "table_label": "12",
            "server_name": None,
            "guests": 2,
            "customer_name": None,
            "notes": None,
            "priority": "normal",
            "status": "new",
            "created_at": NOW.isoformat(),
            "due_at": None,
            "updated_at": NOW.isoformat(),
            "version": 1,
            "change_seq": 1,
            "order_items": lines,
            **fields,
        }
    )


def intent(kind: str, order: OrderWithItems | None = None, seq: int = 1, **fields: Any) -> Intent:
    return Intent(
        id=uuid.uuid4(),
        device_id="dev-1",
        device_seq=seq,
        kind=IntentKind(kind),
        order_id=order.id if order else None,
        **fields,
    )
