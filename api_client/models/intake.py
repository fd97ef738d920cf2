"""POS intake (`POST /api/v1/orders`, `POST /api/v1/orders/{id}/items`): orders as a POS sends them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from .base import InstantDatetime, LongText, ShortText, Station, Storable, TagList, _Wire
from .orders import OrderSource, OrderType, Priority


class OrderItemIntake(_Wire):
    """One line of a POS order. `category` routes it to a station unless `station` is given."""

    id: UUID | None = None
    name: Annotated[str, Field(min_length=1, max_length=200), Storable]
    quantity: Annotated[int, Field(ge=1, le=999)] = 1
    category: Annotated[str, Field(min_length=1, max_length=60), Storable] | None = None
    station: Station | None = None
    modifiers: TagList = []
    notes: LongText | None = None
    allergens: TagList = []
    course: Annotated[int, Field(ge=1, le=9)] = 1
    held: bool = False


class OrderIntake(_Wire):
    """An order as a POS, online shop or delivery integration sends it."""

    id: UUID | None = None
    number: Annotated[str, Field(min_length=1, max_length=40), Storable]
    source: OrderSource = OrderSource.pos
    type: OrderType = OrderType.dine_in
    table_label: ShortText | None = None
    server_name: ShortText | None = None
    guests: Annotated[int, Field(ge=0, le=999)] | None = None
    customer_name: ShortText | None = None
    notes: LongText | None = None
    priority: Priority = Priority.normal
    created_at: InstantDatetime | None = None
    due_at: InstantDatetime | None = None
    items: Annotated[list[OrderItemIntake], Field(min_length=1, max_length=200)]


class OrderItemsAddition(_Wire):
    """Items added to an order the kitchen already has (`POST /api/v1/orders/{id}/items`)."""

    items: Annotated[list[OrderItemIntake], Field(min_length=1, max_length=200)]
