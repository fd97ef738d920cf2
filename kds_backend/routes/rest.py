"""`/rest/v1/<table>`: the PostgREST dialect of Supabase's Data API, for the exposed tables.

Reads (`GET`/`HEAD`) are open to every device role, scoped to its restaurant. Inserts (`POST`) and
updates (`PATCH`) of `orders` and `order_items` are for POS integrations and admins; the kitchen's
screens change tickets with intents (`POST /rest/v1/rpc/apply_intents`), never with row patches.
`deleted_rows` (the deletion log screens catch up on) is read-only: every write is 403 42501, as for a
table without write grants in Supabase.

Errors use PostgREST's codes. Where the brief left a choice:

- a body value the model refuses → **400 PGRST102** "Invalid request body" (PostgREST answers bad values
  with 400, and PGRST102 is its code for a body it cannot use); `details` names each field and `detail`
  holds the same list structured as `{loc, msg, type}`, like the POS intake's 422;
- a body key that is no column → 400 PGRST204; a real column the caller may not write (`version`,
  `change_seq`, `updated_at`, or `id` in a PATCH) → 403 42501;
- cancelling a served order, or adding items to a served/cancelled one → 409 KDS409 (a kitchen rule
  a Supabase project would enforce in a trigger);
- upserts (`Prefer: resolution=...`, `on_conflict`) → 400 PGRST127 "Feature not implemented".

`Prefer: count=exact` gives `Content-Range: 0-9/42` and, as PostgREST, 206 for a partial page; without
it the total is `*`. Top-level reads return at most `MAX_ROWS` rows (Supabase's default max-rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi import Path as FastPath
from fastapi.responses import Response

from api_client.models import DeviceRole

from ..auth.deps import Caller, CurrentCaller, require_roles
from ..db.tables import EXPOSED_TABLES, REST_TABLES
from ..db.writer import Writer
from ..errors import ApiError
from ..hub.mirror import UpstreamMirror
from ..postgrest.body import parse_insert, parse_update
from ..postgrest.negotiate import (
    Accept,
    accept,
    check_profile,
    content_range,
    prefer,
    rows_response,
    single_row_error,
)
from ..postgrest.query import not_implemented, parse_columns, parse_query
from ..postgrest.read import Json, read, read_by_ids, read_ids
from ..postgrest.schema import table_schema
from ..postgrest.writes import insert_items, insert_orders, update_items, update_orders

router = APIRouter(prefix="/rest/v1", tags=["Data API (PostgREST)"])

MAX_ROWS = 1000
TABLES = list(EXPOSED_TABLES)
READ_TABLES = list(REST_TABLES)
WRITE_ROLES = {DeviceRole.pos, DeviceRole.admin}
INSERTS: dict[str, Callable[[Writer, str, Sequence[Any]], list[UUID]]] = {
    "orders": insert_orders,
    "order_items": insert_items,
}
UPDATES: dict[str, Callable[[Writer, str, Sequence[UUID], Any], None]] = {
    "orders": update_orders,
    "order_items": update_items,
}
_COMMON: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unparsable query (PGRST100), unknown column (42703) or relationship (PGRST200), bad value"},
    401: {"description": "Missing API key, or missing, expired or forged token"},
    404: {"description": "Unknown table (PGRST205)"},
    406: {"description": "Single object requested but not exactly one row (PGRST116), or another schema"},
    429: {"description": "Rate limited; see Retry-After"},
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    206: {"description": "A page of the rows, with `Prefer: count=exact` (Content-Range: 0-9/42)"},
    416: {"description": "Offset beyond the counted rows (PGRST103)"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    400: {"description": "Bad query or body: PGRST100, PGRST102, PGRST204, 21000 (PATCH without filter), 23502"},
    403: {"description": "Role may not write (42501), or the row is another restaurant's (RLS, 42501)"},
    409: {"description": "Duplicate id (23505), unknown order (23503), or a kitchen rule (KDS409)"},
}
TablePath = Annotated[
    str,
    FastPath(
        description="The table: orders, order_items, menu_availability or recipes", json_schema_extra={"enum": TABLES}
    ),
]
ReadTablePath = Annotated[
    str,
    FastPath(
        description="The table: orders, order_items, menu_availability, recipes, or deleted_rows (the deletion log)",
        json_schema_extra={"enum": READ_TABLES},
    ),
]
_READ_ONLY_HINTS = {
    "menu_availability": "The kitchen 86es items with the eighty_six intent (POST /rest/v1/rpc/apply_intents).",
    "recipes": "An admin sets recipes with PUT /api/v1/recipes/{item_name} (or kds-backend recipe set).",
    "deleted_rows": "deleted_rows is the server's log of deletions; it is read-only.",
}


def _parameter(name: str, description: str, schema: dict[str, Any] | None = None, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": False, "description": description, "schema": schema or {}}


_PREFER = _parameter(
    "Prefer",
    "`return=representation` (writes), `count=exact` (the total in Content-Range)",
    {"type": "string"},
    "header",
)
_SELECT = _parameter("select", "Columns and embedded resources: `*,order_items(id,name)`", {"type": "string"})
READ_DOC = {
    "description": (
        "Filters are `<column>=[not.]<op>.<value>` with op eq, neq, gt, gte, lt, lte, ilike, in, is, and "
        "`or=(...)`/`and=(...)` trees; `order_items.<column>=...` filters embedded rows. "
        "`Accept: application/vnd.pgrst.object+json` answers one object."
    ),
    "parameters": [
        _SELECT,
        _parameter("order", "`created_at.desc.nullslast,id`", {"type": "string"}),
        _parameter(
            "limit", f"At most this many rows (and never more than {MAX_ROWS})", {"type": "integer", "minimum": 0}
        ),
        _parameter("offset", "Skip this many rows", {"type": "integer", "minimum": 0}),
        _PREFER,
    ],
}
WRITE_DOC = {
    "parameters": [_SELECT, _PREFER],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}
            }
        },
        "description": "orders: OrderInsert; order_items: OrderItemInsert (one object, or an array of them)",
    },
}
UPDATE_DOC = {
    "parameters": [_SELECT, _PREFER],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "orders: OrderUpdate; order_items: OrderItemUpdate",
    },
}


def _writable(table: str, caller: Caller, action: str) -> None:
    table_schema(table)  # 404 PGRST205 for an unknown table, before anything else is judged
    if table not in INSERTS:
        raise read_only(table)
    require_roles(caller, WRITE_ROLES, action)


def read_only(table: str) -> ApiError:
    """403 42501 for a write to a table no client writes over REST (as Supabase without a write grant)."""
    return ApiError(403, "42501", f"permission denied for table {table}", hint=_READ_ONLY_HINTS.get(table))


def _params(request: Request) -> list[tuple[str, str]]:
    return request.query_params.multi_items()


@router.get("/{table}", responses=READ_RESPONSES, openapi_extra=READ_DOC)
async def read_table(table: ReadTablePath, request: Request, caller: CurrentCaller) -> Response:
    """Rows of `orders`, `order_items`, `menu_availability`, `recipes` or `deleted_rows`, PostgREST-style
    (filters, select, order, paging)."""
    return await _read(table, request, caller, body=True)


@router.head("/{table}", responses=READ_RESPONSES, openapi_extra=READ_DOC)
async def count_table(table: ReadTablePath, request: Request, caller: CurrentCaller) -> Response:
    """As GET without the body: with `Prefer: count=exact`, the count in Content-Range."""
    return await _read(table, request, caller, body=False)


async def _read(table: str, request: Request, caller: Caller, *, body: bool) -> Response:
    check_profile(request.headers)
    how = accept(request.headers)
    count = prefer(request.headers).count
    query = parse_query(table, _params(request))
    result = await request.app.state.db.aread(
        lambda conn: read(conn, query, caller.restaurant_id, count=count, limit=MAX_ROWS)
    )
    returned, total = len(result.rows), result.total
    status = 200
    if total is not None and query.offset > total:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            details=f"An offset of {query.offset} was requested, but there are only {total} rows.",
        )
    if total is not None and returned < total:
        status = 206
    headers = {"Content-Range": content_range(query.offset, returned, total)}
    return rows_response(result.rows, how, status=status, headers=headers, body=body)


Written = tuple[list[UUID], list[Json] | None]
"""What a write transaction hands back: the ids written, and their representation if asked for."""


def _written(written: Written, how: Accept, *, status: int, count: bool) -> Response:
    ids, rows = written
    headers = {"Content-Range": content_range(0, len(ids), len(ids) if count else None)}
    if rows is not None:
        return rows_response(rows, how, status=status, headers=headers)
    # Without `return=representation`: 201 (insert) or 204 (update), no body.
    return Response(status_code=201 if status == 201 else 204, headers=headers)


@router.post(
    "/{table}",
    status_code=201,
    response_class=Response,
    responses=WRITE_RESPONSES,
    openapi_extra=WRITE_DOC,
)
async def insert_rows(table: TablePath, request: Request, caller: CurrentCaller) -> Response:
    """Insert one object or an array (all or nothing) into `orders` or `order_items` (pos, admin)."""
    check_profile(request.headers)
    _writable(table, caller, f"insert into {table}")
    how = accept(request.headers)
    prefs = prefer(request.headers)
    params = _params(request)
    if prefs.resolution is not None or any(k == "on_conflict" for k, _ in params):
        raise not_implemented("upsert (Prefer: resolution=..., on_conflict)")
    query = parse_query(table, params)
    columns = next((v for k, v in params if k == "columns"), None)
    rows = parse_insert(table, await request.body(), parse_columns(table, columns) if columns is not None else None)
    insert = INSERTS[table]
    restaurant_id = caller.restaurant_id
    hub: UpstreamMirror | None = request.app.state.upstream

    def write(w: Writer) -> Written:
        mark = len(w.changes)
        ids = insert(w, restaurant_id, rows)
        if how.single and len(ids) != 1:
            raise single_row_error(len(ids))  # raised inside the transaction: nothing is stored
        if hub is not None:
            hub.queue_writes(w, restaurant_id, w.changes[mark:])  # for upstream, in this same transaction
        return ids, read_by_ids(w.conn, query, restaurant_id, ids) if prefs.representation else None

    written = await request.app.state.db.awrite(write)
    if hub is not None:
        hub.writes.kick()
    return _written(written, how, status=201, count=prefs.count)


@router.patch(
    "/{table}",
    response_class=Response,  # the body is there only with `return=representation`
    responses={**WRITE_RESPONSES, 204: {"description": "Updated (no body)"}},
    openapi_extra=UPDATE_DOC,
)
async def update_rows(table: TablePath, request: Request, caller: CurrentCaller) -> Response:
    """Update the rows the filters match (pos, admin): 204, or 200 with them under `return=representation`.

    A PATCH must carry at least one filter (as Supabase's safeupdate requires), else 400 21000.
    """
    check_profile(request.headers)
    _writable(table, caller, f"update {table}")
    how = accept(request.headers)
    prefs = prefer(request.headers)
    query = parse_query(table, _params(request))
    if not query.conditions:
        raise ApiError(
            400,
            "21000",
            "UPDATE requires a WHERE clause",
            hint="Add a filter such as ?id=eq.<uuid> to say which rows to change.",
        )
    update = parse_update(table, await request.body())
    apply = UPDATES[table]
    restaurant_id = caller.restaurant_id
    hub: UpstreamMirror | None = request.app.state.upstream

    def write(w: Writer) -> Written:
        # An empty body changes nothing, as PostgREST sends no UPDATE for it.
        ids = read_ids(w.conn, query, restaurant_id) if update.model_fields_set else []
        if how.single and len(ids) != 1:
            raise single_row_error(len(ids))  # raised inside the transaction: nothing is changed
        if ids:
            mark = len(w.changes)
            apply(w, restaurant_id, ids, update)
            if hub is not None:  # the values the POS set, by id: for upstream, in this same transaction
                values = update.model_dump(mode="json", exclude_unset=True)
                hub.queue_writes(w, restaurant_id, w.changes[mark:], (table, values))
        return ids, read_by_ids(w.conn, query, restaurant_id, ids) if prefs.representation else None

    written = await request.app.state.db.awrite(write)
    if hub is not None:
        hub.writes.kick()
    return _written(written, how, status=200, count=prefs.count)
