"""Committed row changes as Supabase's `postgres_changes` `data` objects, encoded once for every subscriber.

INSERT carries `record` and no `old_record`; UPDATE carries `record` and the whole previous row as `old_record`
(Supabase with replica identity full, which the project's migration sets); DELETE carries `old_record` only, the
primary key (as Supabase sends with RLS on). Records hold exactly the table's columns in their JSON form, which
is also what filters match against (the new row for INSERT and UPDATE, as Supabase's, the deleted one for DELETE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(slots=True, eq=False)
class PreparedChange:
    """One change ready to fan out: what bindings match on, and the `data` JSON every subscriber shares.

    The `data` JSON is encoded when a frame first needs it (`data_json`), so a change no binding matches
    costs its row's JSON form for the filters, not its encoding."""

    table: str
    type: str
    restaurant_id: str | None
    row: dict[str, Any]
    """The JSON form of the row filters are applied to: the new row, or for DELETE the deleted one."""
    encoded: str | None = None
    """The `data` JSON once encoded; `data_json` encodes it from `source` on first use."""
    source: RowChange | None = field(default=None, repr=False)

    @property
    def data_json(self) -> str:
        if self.encoded is None:
            assert self.source is not None, "a PreparedChange needs its data JSON or the change to encode"
            self.encoded = _data_json(self.source, self.row)
        return self.encoded


def _old_row(old: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, Any]:
    """An UPDATE's previous row in its JSON form, the table's columns only. A change logged without it (only
    the key, by a companion before this) gives what it has."""
    if not old:
        return {}
    full = jsonable_row(old)
    return {name: full[name] for name in names if name in full}


def prepare(change: RowChange) -> PreparedChange | None:
    """The change in Supabase's shape; None for tables realtime does not publish."""
    if change.table not in EXPOSED_TABLES:
        return None
    names, _ = columns_of(change.table)
    source = change.old_record if change.type == "DELETE" else change.record
    if source is None:
        return None
    full = jsonable_row(source)
    row = {name: full.get(name) for name in names}
    restaurant = row.get("restaurant_id")
    return PreparedChange(
        table=change.table,
        type=change.type,
        restaurant_id=restaurant if isinstance(restaurant, str) else None,
        row=row,
        source=change,
    )


def restaurant_of(change: RowChange) -> str | None:
    """The restaurant a change belongs to, from its raw row: what realtime looks subscriptions up by before
    preparing the change at all."""
    source = change.old_record if change.type == "DELETE" else change.record
    restaurant = None if source is None else source.get("restaurant_id")
    return restaurant if isinstance(restaurant, str) else None


def _data_json(change: RowChange, row: dict[str, Any]) -> str:
    """The change's `data` object as JSON; `row` is its prepared record."""
    names, columns_json = columns_of(change.table)
    parts = [
        f'"schema":"{SCHEMA}"',
        f'"table":{dumps(change.table)}',
        f'"commit_timestamp":"{commit_timestamp(change.commit_timestamp)}"',
        f'"type":"{change.type}"',
        f'"columns":{columns_json}',
    ]
    if change.type != "DELETE":
        parts.append(f'"record":{dumps(row)}')
    if change.type == "UPDATE":
        parts.append(f'"old_record":{dumps(_old_row(change.old_record, names))}')
    elif change.type == "DELETE":
        parts.append(f'"old_record":{dumps({PRIMARY_KEY: row.get(PRIMARY_KEY)})}')
    parts.append('"errors":null')
    return "{" + ",".join(parts) + "}"
