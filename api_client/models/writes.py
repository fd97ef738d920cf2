"""PostgREST-style writes from a POS or admin device (`POST`/`PATCH /rest/v1/orders`, `/rest/v1/order_items`)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from .base import AwareDatetime, LongText, RestaurantId, ShortText, Station, TagList, _Wire
from .orders import ItemStatus, OrderSource, OrderStatus, OrderType, Priority


class OrderInsert(_Wire):
    """Body of `POST /rest/v1/orders` (PostgREST insert). Server-owned columns are not accepted."""

    id: UUID | None = None
    restaurant_id: RestaurantId | None = None
    number: Annotated[str, Field(min_length=1, max_length=40)]
    source: OrderSource = OrderSource.pos
    type: OrderType = OrderType.dine_in
    table_label: ShortText | None = None
    server_name: ShortText | None = None
    guests: Annotated[int, Field(ge=0, le=999)] | None = None
    customer_name: ShortText | None = None
    notes: LongText | None = None
    priority: Priority = Priority.normal
    status: Literal[OrderStatus.new] = OrderStatus.new
    created_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None


class OrderItemInsert(_Wire):
    """Body of `POST /rest/v1/order_items` (PostgREST insert).

    `order_items` has no category column in the dialect, so the caller routes the line itself: `station`
    is required (POS intake, `POST /api/v1/orders`, is the place that routes by category).
    """

    id: UUID | None = None
    order_id: UUID
    restaurant_id: RestaurantId | None = None
    station: Station
    name: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(ge=1, le=999)] = 1
    modifiers: TagList = []
    notes: LongText | None = None
    allergens: TagList = []
    course: Annotated[int, Field(ge=1, le=9)] = 1
    held: bool = False
    status: Literal[ItemStatus.new] = ItemStatus.new
    changed_after_send: bool | None = None
    created_at: AwareDatetime | None = None


class OrderUpdate(_Wire):
    """Body of `PATCH /rest/v1/orders?...` from a POS: details, or cancelling the order."""

    table_label: ShortText | None = None
    server_name: ShortText | None = None
    guests: Annotated[int, Field(ge=0, le=999)] | None = None
    customer_name: ShortText | None = None
    notes: LongText | None = None
    priority: Priority | None = None
    due_at: AwareDatetime | None = None
    status: Literal[OrderStatus.cancelled] | None = None


class OrderItemUpdate(_Wire):
    """Body of `PATCH /rest/v1/order_items?...` from a POS: voiding or changing a line."""

    quantity: Annotated[int, Field(ge=1, le=999)] | None = None
    modifiers: TagList | None = None
    notes: LongText | None = None
    allergens: TagList | None = None
    status: Literal[ItemStatus.voided] | None = None
