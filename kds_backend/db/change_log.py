"""The change log PostgreSQL keeps so every companion instance can publish every instance's commits.

A write transaction on PostgreSQL appends its row changes here (with their change_seq) and sends
`NOTIFY kds_changes` before it commits; both become visible at commit, never before. Records are stored in
their JSON form, with the full old row for a DELETE (which is gone from its table). SQLite skips all
this: only one process can write it, and that process publishes through its ChangeHub.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python

from .row_change import RowChange
from .tables import change_log

CHANNEL = "kds_changes"


def _restaurant(row: dict[str, Any] | None) -> str | None:
    value = (row or {}).get("restaurant_id")
    return value if isinstance(value, str) else None


def record_changes(conn: sa.Connection, changes: list[RowChange]) -> None:
    """Log a transaction's changes and notify listeners; call inside the transaction, after its last write."""
    rows = [
        {
            "seq": change.seq,
            "table_name": change.table,
            "type": change.type,
            "restaurant_id": _restaurant(change.old_record if change.type == "DELETE" else change.record),
            "record": to_jsonable_python(change.record),
            "old_record": to_jsonable_python(change.old_record),
            "commit_timestamp": change.commit_timestamp,
        }
        for change in changes
        if change.seq is not None
    ]
    if not rows:
        return
    conn.execute(change_log.insert(), rows)
    conn.execute(sa.text("SELECT pg_notify(:channel, :seq)"), {"channel": CHANNEL, "seq": str(rows[-1]["seq"])})
