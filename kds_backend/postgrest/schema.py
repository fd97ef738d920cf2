"""What the PostgREST dialect can see: the exposed tables and the deletion log, column types and relationships.

Derived once from the SQLAlchemy tables, so the query parser works on plain data (and can be tested
without SQLAlchemy or a database) while never drifting from the real schema.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from ..db.tables import REST_TABLES, UtcDateTime
from ..errors import ApiError


class ColumnType(StrEnum):
    """A column's type as PostgreSQL names it (used in error messages, like PostgreSQL's own)."""

    uuid = "uuid"
    integer = "integer"
    bigint = "bigint"
    boolean = "boolean"
    timestamptz = "timestamp with time zone"
    text = "text"
    jsonb = "jsonb"


@dataclass(frozen=True)
class Relationship:
    """A foreign key seen from one side: `source.local = target.remote`.

    `many` is True when the target side holds the foreign key (orders → order_items: an array);
    False when the source holds it (order_items → orders: one object).
    """

    target: str
    local: str
    remote: str
    many: bool
    constraint: str


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: dict[str, ColumnType]
    relationships: dict[str, Relationship]


Schema = dict[str, TableSchema]


def _column_type(column: sa.Column) -> ColumnType:
    # Order matters: BigInteger is an Integer, and the TypeDecorator wraps a DateTime.
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return ColumnType.uuid
    if isinstance(kind, sa.BigInteger):
        return ColumnType.bigint
    if isinstance(kind, sa.Integer):
        return ColumnType.integer
    if isinstance(kind, sa.Boolean):
        return ColumnType.boolean
    if isinstance(kind, (UtcDateTime, sa.DateTime)):
        return ColumnType.timestamptz
    if isinstance(kind, sa.String):
        return ColumnType.text
    if isinstance(kind, sa.JSON):
        return ColumnType.jsonb
    raise TypeError(f"column {column.table.name}.{column.name} has an unmapped type {kind!r}")


def build_schema(tables: dict[str, sa.Table]) -> Schema:
    relationships: dict[str, dict[str, Relationship]] = {name: {} for name in tables}
    for name, table in tables.items():
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if target not in tables:
                continue
            constraint = f"{name}_{fk.parent.name}_fkey"
            # Both directions: the holder sees one parent, the referenced table sees many children.
            relationships[name][target] = Relationship(target, fk.parent.name, fk.column.name, False, constraint)
            relationships[target][name] = Relationship(name, fk.column.name, fk.parent.name, True, constraint)
    return {
        name: TableSchema(name, {c.name: _column_type(c) for c in table.c}, relationships[name])
        for name, table in tables.items()
    }


SCHEMA: Schema = build_schema(REST_TABLES)


def table_schema(name: str, schema: Schema = SCHEMA) -> TableSchema:
    try:
        return schema[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(schema), n=1)
        hint = f"Perhaps you meant the table 'public.{close[0]}'" if close else None
        raise ApiError(
            404, "PGRST205", f"Could not find the table 'public.{name}' in the schema cache", hint=hint
        ) from None
