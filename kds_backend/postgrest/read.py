"""Running a parsed read: rows as JSON objects with the selected columns and embedded resources.

Rows pass through the wire models, so `/rest/v1` renders UUIDs, timestamps and enums exactly as the
rest of the companion (intake responses, realtime records) does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel

from api_client.models import DeletedRowPublic, MenuAvailabilityPublic, OrderItemPublic, OrderPublic, RecipePublic

from .query import Embed, Field, Filter, Op, ReadQuery
from .sql import count_rows, select_embedded, select_rows

ROW_MODELS: dict[str, type[BaseModel]] = {
    "orders": OrderPublic,
    "order_items": OrderItemPublic,
    "menu_availability": MenuAvailabilityPublic,
    "recipes": RecipePublic,
    "deleted_rows": DeletedRowPublic,
}
CHUNK = 500
"""Keys per `IN (...)`: well under every backend's bound-parameter limit (SQLite: 32766)."""

Json = dict[str, Any]


@dataclass(frozen=True)
class ReadResult:
    rows: list[Json]
    total: int | None
    """All matching rows ignoring limit/offset, when a count was asked for."""


def _json(table: str, row: sa.RowMapping) -> Json:
    return ROW_MODELS[table].model_validate(dict(row)).model_dump(mode="json")


def _project(fields: Sequence[Field], row: Json) -> Json:
    return {f.key: row[f.column] for f in fields}


def chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _embedded(conn: sa.Connection, embed: Embed, keys: list[Any], restaurant_id: str) -> dict[Any, list[Json]]:
    """Embedded rows (as JSON, projected) grouped by the parent key they link to."""
    rel = embed.relationship
    grouped: dict[Any, list[Json]] = defaultdict(list)
    for chunk in chunks(keys):
        for row in conn.execute(select_embedded(embed, chunk, restaurant_id)).mappings():
            grouped[row[rel.remote]].append(_project(embed.fields, _json(rel.target, row)))
    end = None if embed.limit is None else embed.offset + embed.limit
    return {key: rows[embed.offset : end] for key, rows in grouped.items()}


def read(
    conn: sa.Connection, query: ReadQuery, restaurant_id: str, *, count: bool = False, limit: int | None = None
) -> ReadResult:
    """The rows `query` selects in this restaurant; `limit` caps the page (the query's own limit applies too)."""
    if query.limit is not None:
        limit = query.limit if limit is None else min(limit, query.limit)
    raw = list(conn.execute(select_rows(query, restaurant_id, limit=limit)).mappings())
    rows = [_project(query.fields, _json(query.table, r)) for r in raw]
    for embed in query.embeds:
        if not embed.fields:
            continue  # `order_items!inner()`: used only to filter the parents, not shown (as PostgREST does)
        local = embed.relationship.local
        keys = list(dict.fromkeys(r[local] for r in raw if r[local] is not None))
        children = _embedded(conn, embed, keys, restaurant_id)
        for row, parent in zip(rows, raw, strict=True):
            linked = children.get(parent[local], [])
            row[embed.key] = linked if embed.relationship.many else (linked[0] if linked else None)
    total = conn.execute(count_rows(query, restaurant_id)).scalar_one() if count else None
    return ReadResult(rows, total)


def read_ids(conn: sa.Connection, query: ReadQuery, restaurant_id: str) -> list[UUID]:
    """The ids of the rows `query` matches (the rows a PATCH changes), honouring its order and limit.

    Only the table's own filters choose them: embeds (even `!inner`) shape the representation, as in PostgREST.
    """
    stmt = select_rows(replace(query, embeds=()), restaurant_id, limit=query.limit, columns=["id"])
    return list(conn.execute(stmt).scalars())


def read_by_ids(conn: sa.Connection, query: ReadQuery, restaurant_id: str, ids: Sequence[UUID]) -> list[Json]:
    """Rows by id in the order of `ids`, shaped by the query's `select` (the representation of written rows)."""
    # A hidden id field tells the rows apart even when the select leaves `id` out.
    hidden = Field("id", "\x00id")
    rows: list[Json] = []
    for chunk in chunks(ids):
        conditions = (Filter("id", Op.in_, tuple(chunk)),)
        by_id = replace(query, fields=(*query.fields, hidden), conditions=conditions, limit=None, offset=0)
        rows.extend(read(conn, by_id, restaurant_id).rows)
    position = {str(i): n for n, i in enumerate(ids)}
    rows.sort(key=lambda r: position[r[hidden.key]])
    for row in rows:
        del row[hidden.key]
    return rows
