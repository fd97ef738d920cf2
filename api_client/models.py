"""The wire contract: pydantic models shared by the companion backend, the sync engine and the app.

Column names are the ones the Supabase dialect exposes (`/rest/v1/orders`, realtime `record`s),
so these models describe rows exactly as other clients and the SQL migrations see them.
Create, update and public shapes are kept apart: what a client may send is never what the server owns.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .storable import in_range, json_problem, storable_text

SCHEMA_VERSION = 1
"""Version of the wire contract. Bumped only for a change that is not backward compatible."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (e.g. 2026-11-21T18:30:00Z)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
InstantDatetime = Annotated[datetime, AfterValidator(_aware), AfterValidator(in_range)]
"""An aware timestamp every backend can store and every screen can show (intake and intents)."""
Storable = AfterValidator(storable_text)
"""Text without NUL or lone surrogates, which PostgreSQL (and UTF-8) cannot hold: refused with the field named."""
RestaurantId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Station = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
ShortText = Annotated[str, Field(max_length=200), Storable]
LongText = Annotated[str, Field(max_length=2000), Storable]
TagList = Annotated[list[Annotated[str, Field(min_length=1, max_length=120), Storable]], Field(max_length=40)]
MAX_ARGS_DEPTH = 8
"""Arrays and objects nested in an intent's `args`; the kinds use flat args, so this is only a guard."""


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


class DeviceRole(StrEnum):
    kds = "kds"
    expo = "expo"
    pos = "pos"
    admin = "admin"


class IntentKind(StrEnum):
    start = "start"
    bump_item = "bump_item"
    unbump_item = "unbump_item"
    bump_ticket = "bump_ticket"
    recall = "recall"
    serve = "serve"
    rush = "rush"
    hold = "hold"
    fire = "fire"
    ack_change = "ack_change"
    eighty_six = "eighty_six"


class IntentStatus(StrEnum):
    applied = "applied"
    duplicate = "duplicate"
    rejected = "rejected"


class _Wire(BaseModel):
    """What a client sends: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class _Published(BaseModel):
    """What the server sends: unknown fields are ignored, so an older screen keeps reading rows that
    gained a new optional column (the backward-compatible changes that stay in schema v1)."""

    model_config = ConfigDict(extra="ignore", use_enum_values=False)


# ---------------------------------------------------------------- public rows (server-owned shape)


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


class OrderWithItems(OrderPublic):
    """An order with its items embedded, as `select=*,order_items(*)` returns it."""

    order_items: list[OrderItemPublic]


class MenuAvailabilityPublic(_Published):
    """A row of `menu_availability`: an item the kitchen has 86'd (or brought back)."""

    id: UUID
    restaurant_id: RestaurantId
    item_name: ShortText
    available: bool
    reason: ShortText | None
    updated_by: str | None
    updated_at: datetime
    version: int
    change_seq: int


class DeletedRowPublic(_Published):
    """A row of `deleted_rows`: one row of orders, order_items or menu_availability that was deleted.

    Read-only, the screens' catch-up for deletions (`GET /rest/v1/deleted_rows?restaurant_id=eq.R
    &change_seq=gt.N&order=change_seq.asc`): a deleted row is not in its own table any more, so a screen
    that was off when it went learns of it here. `change_seq` is the delete's own, from the same counter
    as every other write, so the log pages in commit order alongside the other tables.
    """

    change_seq: int
    restaurant_id: RestaurantId
    table_name: Literal["orders", "order_items", "menu_availability"]
    row_id: UUID
    """The deleted row's id."""
    order_id: UUID | None
    """For an order item its order; for an order its own id; None for a menu row."""
    deleted_at: datetime


# ---------------------------------------------------------------- POS intake (`POST /api/v1/orders`)


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


# ---------------------------------------------------------------- PostgREST-style writes


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


# ---------------------------------------------------------------- intents (`POST /rest/v1/rpc/apply_intents`)


class Intent(_Wire):
    """A cook's or expeditor's action, written locally first and sent exactly once."""

    id: UUID
    device_id: Annotated[str, Field(min_length=1, max_length=80)]
    device_seq: Annotated[int, Field(ge=1, le=2**63 - 1)]
    kind: IntentKind
    order_id: UUID | None = None
    item_id: UUID | None = None
    station: Station | None = None
    args: dict[str, Any] = {}
    created_at: InstantDatetime | None = None
    """Device time: informational only, never used for ordering."""
    schema_version: Annotated[int, Field(ge=1, le=SCHEMA_VERSION)] = SCHEMA_VERSION

    @field_validator("args")
    @classmethod
    def _storable_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        # Kinds read strings from args into rows (eighty_six's item_name, reason): refuse what no backend stores.
        problem = json_problem(args, MAX_ARGS_DEPTH)
        if problem is not None:
            raise ValueError(problem)
        return args


class ApplyIntentsRequest(_Wire):
    intents: Annotated[list[Intent], Field(min_length=1, max_length=1000)]


class IntentResult(_Published):
    id: UUID
    status: IntentStatus
    reason: str | None = None
    original_status: IntentStatus | None = None
    """For a duplicate: what the first delivery of this intent came to (applied or rejected)."""
    order: OrderWithItems | None = None
    menu_item: MenuAvailabilityPublic | None = None


# ---------------------------------------------------------------- devices and auth


class AppMetadata(_Wire):
    """What a token says about the device, under `app_metadata` as Supabase puts it."""

    model_config = ConfigDict(extra="allow")
    restaurant_id: RestaurantId | None = None
    device_role: DeviceRole | None = None
    stations: list[Station] = []


class TokenClaims(BaseModel):
    """The claims of an access token (HS256), shaped like Supabase's."""

    model_config = ConfigDict(extra="allow")
    role: str
    exp: int
    iat: int | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    email: str | None = None
    session_id: str | None = None
    """The sign-in this token belongs to (GoTrue's session); None for a token made without one (`kds-backend
    token`)."""
    app_metadata: AppMetadata = AppMetadata()
    user_metadata: dict[str, Any] = {}


class DisplaySettings(_Wire):
    yellow_after_s: Annotated[int, Field(ge=0, le=86400)] = 300
    red_after_s: Annotated[int, Field(ge=0, le=86400)] = 480
    font_scale: Annotated[float, Field(ge=0.5, le=3.0)] = 1.0
    sound: bool = True


class DeviceCreate(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: DeviceRole
    stations: list[Station] = []
    display: DisplaySettings = DisplaySettings()


class DevicePublic(_Published):
    id: str
    restaurant_id: RestaurantId
    name: str
    email: str
    role: DeviceRole
    stations: list[Station]
    display: DisplaySettings
    created_at: datetime


class PasswordGrant(BaseModel):
    email: str
    password: str


class RefreshGrant(BaseModel):
    refresh_token: str


class AuthUser(BaseModel):
    """GoTrue's user object, reduced to what a device needs."""

    id: str
    aud: str = "authenticated"
    role: str = "authenticated"
    email: str | None = None
    app_metadata: AppMetadata
    user_metadata: dict[str, Any] = {}


class AuthSession(BaseModel):
    """GoTrue's token response (`POST /auth/v1/token`)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: int
    refresh_token: str
    user: AuthUser


# ---------------------------------------------------------------- realtime change payloads


class ChangeColumn(BaseModel):
    name: str
    type: str


class _ChangeData(BaseModel):
    schema_: Literal["public"] = Field("public", alias="schema")
    commit_timestamp: str
    type: Literal["INSERT", "UPDATE", "DELETE"]
    columns: list[ChangeColumn]
    old_record: dict[str, Any] | None = None
    errors: list[str] | None = None


class OrderChange(_ChangeData):
    """`data` of a realtime `postgres_changes` push for `orders`."""

    table: Literal["orders"]
    record: OrderPublic | None = None


class OrderItemChange(_ChangeData):
    """`data` of a realtime `postgres_changes` push for `order_items`."""

    table: Literal["order_items"]
    record: OrderItemPublic | None = None


class MenuAvailabilityChange(_ChangeData):
    """`data` of a realtime `postgres_changes` push for `menu_availability`."""

    table: Literal["menu_availability"]
    record: MenuAvailabilityPublic | None = None


class PostgrestError(BaseModel):
    """The error body PostgREST (and so Supabase's Data API) returns."""

    code: str
    message: str
    details: str | None = None
    hint: str | None = None
