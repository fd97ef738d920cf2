"""The wire contract: pydantic models shared by the companion backend, the sync engine and the app.

Column names are the ones the Supabase dialect exposes (`/rest/v1/orders`, realtime `record`s),
so these models describe rows exactly as other clients and the SQL migrations see them.
Create, update and public shapes are kept apart: what a client may send is never what the server owns.

One module per part of the contract (`orders`, `menu`, `intake`, `writes`, `intents`, `auth`, `realtime`), every
public name re-exported here: `from api_client.models import X` is the way in, and each class says it lives
here (`__module__`), as it did when this was one module (pickles, reprs and the schema export's check read it).
"""

from __future__ import annotations

from .auth import (
    AppMetadata,
    AuthSession,
    AuthUser,
    DeviceCreate,
    DevicePublic,
    DeviceRole,
    DisplaySettings,
    PasswordGrant,
    RefreshGrant,
    TokenClaims,
)
from .base import (
    MAX_ARGS_DEPTH,
    SCHEMA_VERSION,
    AwareDatetime,
    InstantDatetime,
    LongText,
    RestaurantId,
    ShortText,
    Station,
    Storable,
    TagList,
)
from .intake import OrderIntake, OrderItemIntake, OrderItemsAddition
from .intents import ApplyIntentsRequest, Intent, IntentKind, IntentResult, IntentStatus
from .menu import (
    MAX_RECIPE_INGREDIENTS,
    MAX_RECIPE_QUANTITY,
    IngredientName,
    MenuAvailabilityPublic,
    RecipeIngredient,
    RecipeItem,
    RecipePublic,
    RecipeSet,
)
from .orders import (
    DeletedRowPublic,
    ItemStatus,
    OrderItemPublic,
    OrderPublic,
    OrderSource,
    OrderStatus,
    OrderType,
    OrderWithItems,
    Priority,
)
from .postgrest_error import PostgrestError
from .realtime import ChangeColumn, MenuAvailabilityChange, OrderChange, OrderItemChange
from .writes import OrderInsert, OrderItemInsert, OrderItemUpdate, OrderUpdate

__all__ = [
    "MAX_ARGS_DEPTH",
    "MAX_RECIPE_INGREDIENTS",
    "MAX_RECIPE_QUANTITY",
    "SCHEMA_VERSION",
    "AppMetadata",
    "ApplyIntentsRequest",
    "AuthSession",
    "AuthUser",
    "AwareDatetime",
    "ChangeColumn",
    "DeletedRowPublic",
    "DeviceCreate",
    "DevicePublic",
    "DeviceRole",
    "DisplaySettings",
    "IngredientName",
    "InstantDatetime",
    "Intent",
    "IntentKind",
    "IntentResult",
    "IntentStatus",
    "ItemStatus",
    "LongText",
    "MenuAvailabilityChange",
    "MenuAvailabilityPublic",
    "OrderChange",
    "OrderInsert",
    "OrderIntake",
    "OrderItemChange",
    "OrderItemInsert",
    "OrderItemIntake",
    "OrderItemPublic",
    "OrderItemUpdate",
    "OrderItemsAddition",
    "OrderPublic",
    "OrderSource",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "OrderWithItems",
    "PasswordGrant",
    "PostgrestError",
    "Priority",
    "RecipeIngredient",
    "RecipeItem",
    "RecipePublic",
    "RecipeSet",
    "RefreshGrant",
    "RestaurantId",
    "ShortText",
    "Station",
    "Storable",
    "TagList",
    "TokenClaims",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith(f"{__name__}."):
        _obj.__module__ = __name__
del _name, _obj
