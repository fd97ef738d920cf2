"""The Data API's error body."""

from __future__ import annotations

from pydantic import BaseModel


class PostgrestError(BaseModel):
    """The error body PostgREST (and so Supabase's Data API) returns."""

    code: str
    message: str
    details: str | None = None
    hint: str | None = None
