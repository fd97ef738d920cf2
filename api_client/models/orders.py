"""Orders and their items as the server stores and publishes them, and the log of deleted rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from .base import LongText, RestaurantId, ShortText, Station, _Published


class OrderSource(StrEnum):
    pos = "pos"
    online = "online"
    delivery = "delivery"
    kiosk = "kiosk"


class OrderType(StrEnum):
    dine_in = "dine_in"
    takeout = "takeout"
    delivery = "delivery"
    pickup = "pickup"


class Priority(StrEnum):
    normal = "normal"
    rush = "rush"


class OrderStatus(StrEnum):
    new = "new"
    in_progress = "in_progress"
    ready = "ready"
    served = "served"
    cancelled = "cancelled"


class ItemStatus(StrEnum):
    new = "new"
    cooking = "cooking"
    done = "done"
    voided = "voided"


class OrderItemPublic(_Published):
    """A row of `order_items` as the server stores and publishes it."""

    id: UUID
    order_id: UUID
    restaurant_id: RestaurantId
    station: Station
    name: ShortText
    quantity: int
    modifiers: list[str]
    notes: LongText | None
    allergens: list[str]
    course: int
    held: bool
    status: ItemStatus
    changed_after_send: bool
    created_at: datetime
    updated_at: datetime
    version: int
    change_seq: int
    done_at: datetime | None = None
    """When the server marked the item done (its clock, never a device's); None while not done. Optional:
    rows from a server without the column still validate."""
    printed_at: datetime | None = None
    """When the station's backup printer printed this item as it is now (the companion prints a station's tickets
    while none of its screens is online); None: never printed. Optional: servers without the column omit it."""
    prep_seconds: int | None = None
    """How long the item takes to cook, from the restaurant's prep times when it was sent (issue 19 item 1); None:
    no prep time, the item fires with its course. Optional: servers without the column omit it."""
    fired_at: datetime | None = None
    """When the item's course went to the kitchen (the server's clock): when it was sent, or when its held course
    fired; None while held (and on servers without the column). Fire timing counts from it (api_client/fire_timing)."""
    moved_from: Station | None = None
    """The station the item was sent to, while a transfer has it at another one (its card says "← GRILL"); None:
    at the station it was sent to (never moved, or moved back), and on servers without the column."""


class OrderPublic(_Published):
    """A row of `orders` as the server stores and publishes it."""

    id: UUID
    restaurant_id: RestaurantId
    number: ShortText
    source: OrderSource
    type: OrderType
    table_label: ShortText | None
    server_name: ShortText | None
    guests: int | None
    customer_name: ShortText | None
    notes: LongText | None
    priority: Priority
    status: OrderStatus
    created_at: datetime
    due_at: datetime | None
    updated_at: datetime
    version: int
    change_seq: int
    cleared_at: datetime | None = None
    """When end of day archived the order while it was still open (it then leaves every screen, keeping its
    status so reports tell abandoned from served). Optional: older servers have no such column."""
    item_count: int | None = None
    """How many order_items rows the order has (every status: a voided line still counts), written in the same
    transaction as the items: a screen holds a commit's frames until it has them all (sync/readpath/commit_groups).
    None from servers without the column: the screen then holds by timing alone."""


class OrderWithItems(OrderPublic):
    """An order with its items embedded, as `select=*,order_items(*)` returns it."""

    order_items: list[OrderItemPublic]


class DeletedRowPublic(_Published):
    """A row of `deleted_rows`: one row of orders, order_items or menu_availability that was deleted.

    Read-only, the screens' catch-up for deletions (`GET /rest/v1/deleted_rows?restaurant_id=eq.R
    &change_seq=gt.N&order=change_seq.asc`): a deleted row is not in its own table any more, so a screen
    that was off when it went learns of it here. `change_seq` is the delete's own, from the same counter
    as every other write, so the log pages in commit order alongside the other tables.
    """

    change_seq: int
    restaurant_id: RestaurantId
    table_name: Literal["orders", "order_items", "menu_availability", "recipes"]
    row_id: UUID
    """The deleted row's id."""
    order_id: UUID | None
    """For an order item its order; for an order its own id; None for a menu row."""
    deleted_at: datetime
