"""Orders on a real local store, as the ticket listings see them: a clock the test moves, orders made from
item lines, saved, and listed for a station."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from api_client.models import DeviceRole, OrderWithItems
from sync.engine.tickets import open_tickets
from sync.store import LocalStore, read_rows
from tests.sync.store.support import NOW, item, order_with


class Clock:
    """Wall-clock seconds that move only when a test says so (the outbox stamps intents with it)."""

    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()


def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


def make_order(lines: list[dict[str, Any]], status: str = "new", number: str = "A1", **fields: Any) -> OrderWithItems:
    """An order with the given items: each line is `item()` keyword fields (station, name, status, ...)."""
    order_id = uuid.uuid4()
    items = [
        item(order_id, **{"created_at": (NOW + timedelta(seconds=n)).isoformat(), **line})
        for n, line in enumerate(lines)
    ]
    return order_with(order_id, items, status=status, number=number, **fields)


def save(store: LocalStore, *orders: OrderWithItems) -> None:
    with store.transaction() as conn:
        for order in orders:
            read_rows.save_order(conn, order)


def shown(store: LocalStore, station: str | None, role: DeviceRole = DeviceRole.kds) -> list[OrderWithItems]:
    with store.snapshot() as conn:
        return open_tickets(conn, role, station)


def ids(tickets: list[OrderWithItems]) -> list[uuid.UUID]:
    return [t.id for t in tickets]


BURGER = {"name": "Burger", "station": "grill"}
FRIES = {"name": "Fries", "station": "fry"}
