"""Realtime `postgres_changes` payloads: a change's `data`, with the row as `*Public` has it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .menu import MenuAvailabilityPublic
from .orders import OrderItemPublic, OrderPublic


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
