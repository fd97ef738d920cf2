"""A committed row change: what a write transaction produces, the change log stores and realtime publishes.

Its own module so the writer and the change log both depend on it, not on each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ChangeType = Literal["INSERT", "UPDATE", "DELETE"]


@dataclass(frozen=True)
class RowChange:
    """One committed row change, as realtime will publish it.

    `old_record` is the whole previous row for an UPDATE and the whole deleted row for a DELETE. Realtime
    publishes the former as Supabase does with replica identity full (which the project's migration sets), and
    of the latter only the key, as Supabase does with RLS on, but needs the rest to scope and filter it.
    """

    table: str
    type: ChangeType
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    commit_timestamp: datetime
    seq: int | None = None
    """The change_seq this change took (commit order, server-wide)."""
