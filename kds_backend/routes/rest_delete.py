"""`DELETE /rest/v1/<table>?<filters>`: PostgREST's delete, for admins (end-of-day clean-up, test fixtures).

Reuses the Data API's filter parser, so `?id=eq.<uuid>` and friends mean what they mean for GET. Every
deleted row is a committed change with its own change_seq, so realtime publishes a DELETE for it and
`deleted_rows` logs it (for screens catching up later); deleting an order deletes its items first, each
published and logged too (the foreign key's cascade would hide them). `deleted_rows` itself is read-only.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api_client.models import DeviceRole

from ..auth.deps import CurrentCaller, require_roles
from ..db.tables import EXPOSED_TABLES, order_items
from ..db.writer import Writer
from ..errors import ApiError
from ..hub.guard import refuse_on_a_hub
from ..postgrest.negotiate import accept, check_profile, content_range, prefer, rows_response
from ..postgrest.query import parse_query
from ..postgrest.read import Json, read_by_ids, read_ids
from ..postgrest.schema import table_schema
from .rest import read_only

router = APIRouter(prefix="/rest/v1", tags=["Data API (PostgREST)"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The deleted rows (with `Prefer: return=representation`)"},
    204: {"description": "Deleted"},
    400: {"description": "No filter (21000), or an unparsable one"},
    401: {"description": "Missing API key, or missing, expired or forged token"},
    403: {"description": "Only admin devices may delete; deleted_rows is read-only (42501)"},
    404: {"description": "Unknown table (PGRST205)"},
    429: {"description": "Rate limited; see Retry-After"},
}


def _delete_rows(w: Writer, table: sa.Table, ids: list[UUID]) -> None:
    if not ids:
        return
    if table.name == "orders":
        items = w.conn.execute(sa.select(order_items).where(order_items.c.order_id.in_(ids))).mappings().all()
        for item in items:
            w.delete(order_items, dict(item))
    for row in w.conn.execute(sa.select(table).where(table.c.id.in_(ids))).mappings().all():
        w.delete(table, dict(row))


@router.delete("/{table}", responses=RESPONSES, dependencies=[Depends(refuse_on_a_hub)])
async def delete_rows(table: str, request: Request, caller: CurrentCaller) -> Response:
    """Delete the rows the filters match (admin): 204, or 200 with them under `Prefer: return=representation`."""
    check_profile(request.headers)
    table_schema(table)
    if table not in EXPOSED_TABLES:
        raise read_only(table)
    require_roles(caller, {DeviceRole.admin}, f"delete from {table}")
    how = accept(request.headers)
    prefs = prefer(request.headers)
    query = parse_query(table, request.query_params.multi_items())
    if not query.conditions:
        raise ApiError(
            400,
            "21000",
            "DELETE requires a WHERE clause",
            hint="Add a filter such as ?id=eq.<uuid> to say which rows to delete.",
        )
    restaurant_id = caller.restaurant_id

    def write(w: Writer) -> tuple[list[UUID], list[Json] | None]:
        ids = read_ids(w.conn, query, restaurant_id)
        rows = read_by_ids(w.conn, query, restaurant_id, ids) if prefs.representation else None
        _delete_rows(w, EXPOSED_TABLES[table], ids)
        return ids, rows

    ids, rows = await request.app.state.db.awrite(write)
    headers = {"Content-Range": content_range(0, len(ids), len(ids) if prefs.count else None)}
    if rows is not None:
        return rows_response(rows, how, status=200, headers=headers)
    return Response(status_code=204, headers=headers)
