"""Committed row changes as Supabase's `postgres_changes` `data` objects, encoded once for every subscriber.

INSERT carries `record` and no `old_record`; UPDATE carries `record` and the primary key as `old_record`;
DELETE carries `old_record` only (the primary key, as Supabase sends with RLS on). Records hold exactly the
table's columns in their JSON form, which is also what filters match against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python

from ..db.tables import EXPOSED_TABLES, UtcDateTime
from ..db.writer import RowChange
from .protocol import dumps

SCHEMA = "public"
PRIMARY_KEY = "id"


def pg_type(column: sa.Column[Any]) -> str:
    """The column's PostgreSQL type name as Supabase reports it (`columns[].type`); clients cast by it."""
    t = column.type
    if isinstance(t, UtcDateTime):
        return "timestamptz"
    if isinstance(t, sa.Uuid):
        return "uuid"
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, sa.BigInteger):
        return "int8"
    if isinstance(t, sa.Integer):
        return "int4"
    if isinstance(t, sa.JSON):
        return "jsonb"
    if isinstance(t, sa.String) and t.length:
        return "varchar"
    return "text"


@cache
def columns_of(table: str) -> tuple[tuple[str, ...], str]:
    """Column names of an exposed table and its `columns` array, JSON-encoded once."""
    t = EXPOSED_TABLES[table]
    names = tuple(c.name for c in t.columns)
    return names, dumps([{"name": c.name, "type": pg_type(c)} for c in t.columns])


def commit_timestamp(at: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, Supabase's `commit_timestamp` format."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with UUIDs, timestamps and enums as JSON values (idempotent on rows already in that form)."""
    return to_jsonable_python(dict(row))


@dataclass(frozen=True, slots=True)
class PreparedChange:
    """One change ready to fan out: what bindings match on, and the `data` JSON every subscriber shares."""

    table: str
    type: str
    restaurant_id: str | None
    row: dict[str, Any]
    """The JSON form of the row filters are applied to: the new row, or for DELETE the deleted one."""
    data_json: str


def prepare(change: RowChange) -> PreparedChange | None:
    """The change in Supabase's shape; None for tables realtime does not publish."""
    if change.table not in EXPOSED_TABLES:
        return None
    names, columns_json = columns_of(change.table)
    source = change.old_record if change.type == "DELETE" else change.record
    if source is None:
        return None
    full = jsonable_row(source)
    row = {name: full.get(name) for name in names}
    parts = [
        f'"schema":"{SCHEMA}"',
        f'"table":{dumps(change.table)}',
        f'"commit_timestamp":"{commit_timestamp(change.commit_timestamp)}"',
        f'"type":"{change.type}"',
        f'"columns":{columns_json}',
    ]
    if change.type != "DELETE":
        parts.append(f'"record":{dumps(row)}')
    if change.type != "INSERT":
        parts.append(f'"old_record":{dumps({PRIMARY_KEY: row.get(PRIMARY_KEY)})}')
    parts.append('"errors":null')
    restaurant = row.get("restaurant_id")
    return PreparedChange(
        table=change.table,
        type=change.type,
        restaurant_id=restaurant if isinstance(restaurant, str) else None,
        row=row,
        data_json="{" + ",".join(parts) + "}",
    )
