"""Intents (`POST /rest/v1/rpc/apply_intents`): a cook's or expeditor's action, and what the server made of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, field_validator

from ..storable import json_problem
from .base import MAX_ARGS_DEPTH, SCHEMA_VERSION, InstantDatetime, Station, _Published, _Wire
from .menu import MenuAvailabilityPublic
from .orders import OrderWithItems


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
    transfer = "transfer"
    eighty_six = "eighty_six"


class IntentStatus(StrEnum):
    applied = "applied"
    duplicate = "duplicate"
    rejected = "rejected"


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
