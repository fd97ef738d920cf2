"""What every part of the wire contract is made of: the schema version, checked field types, and the two bases
(`_Wire` refuses unknown fields, `_Published` ignores them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..storable import in_range, storable_text

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


class _Wire(BaseModel):
    """What a client sends: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class _Published(BaseModel):
    """What the server sends: unknown fields are ignored, so an older screen keeps reading rows that
    gained a new optional column (the backward-compatible changes that stay in schema v1)."""

    model_config = ConfigDict(extra="ignore", use_enum_values=False)
