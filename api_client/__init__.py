"""The shared wire contract (pydantic models) and the client for the Supabase-dialect API."""

from .models import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION"]
