"""POS intake: `POST /api/v1/orders` with nested items, idempotent by `Idempotency-Key`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_client.models import DeviceRole, OrderIntake, OrderItemsAddition, OrderWithItems
from api_client.storable import text_problem

from ..auth.deps import PREAUTHENTICATED, Caller, CurrentCaller, require_roles
from ..db.writer import Writer
from ..errors import ApiError, bad_request
from ..hub.mirror import UpstreamMirror
from ..intake import OrderRequest, StoredResponse, intake_items, intake_orders, request_fingerprint
from ..routing import DEFAULT_ROUTES, replace_routes, restaurant_routes

router = APIRouter(prefix="/api/v1", tags=["POS intake"])
STATION_NAME = re.compile(r"[a-z0-9_-]{1,40}")

INTAKE_ROLES = {DeviceRole.pos, DeviceRole.admin}


# Read by hand rather than declared with `Header()`: a missing key must get the friendly 400 below (with a
# hint) after the role check, not FastAPI's 422, and the document must still say the header is required.
def _idempotency_key_doc() -> dict[str, Any]:
    # A fresh dict per route: FastAPI merges it into the operation and may keep a reference to its list.
    parameter = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": "A unique key per order (a UUID is best); retries reuse it.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    }
    return {"parameters": [parameter]}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Missing or malformed Idempotency-Key, or a body that is not JSON"},
    401: {"description": "Missing, expired or forged token"},
    403: {"description": "This device's role may not do this"},
    409: {"description": "Key reused for a different request, or the order id exists"},
    422: {"description": "Invalid body, with field-level detail"},
    429: {"description": "Rate limited; see Retry-After"},
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: ERROR_RESPONSES[401],
    429: ERROR_RESPONSES[429],
}
ROUTING_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    400: {"description": "Body is not JSON, or a category or station name is invalid"},
    403: {"description": "Only an admin device may change routing"},
    422: {"description": "Body is not an object of category → station strings"},
}


def _key(value: str | None) -> str:
    if value is None or not value.strip():
        raise bad_request(
            "KDS400",
            "Idempotency-Key header is required",
            hint="Send a unique Idempotency-Key (e.g. a UUID) with every order, and the same one on retries.",
        )
    if len(value) > 200 or not value.isprintable():
        raise bad_request("KDS400", "Idempotency-Key must be printable and at most 200 characters")
    return value.strip()


class _FastJSONResponse(JSONResponse):
    """JSONResponse rendered by pydantic-core: the same bytes as Starlette's compact `json.dumps` for these
    bodies (strings, integers, booleans, nulls, lists and objects), for a fraction of the CPU."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


def _respond(stored: StoredResponse) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return _FastJSONResponse(stored.body, status_code=stored.status_code, headers=headers)


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderWithItems,
    responses=ERROR_RESPONSES,
    openapi_extra=_idempotency_key_doc(),
)
async def create_order(body: OrderIntake, request: Request, caller: CurrentCaller) -> JSONResponse:
    # Most orders are answered by `IntakeFastPath` below without reaching here; the answers are the same.
    require_roles(caller, INTAKE_ROLES, "create orders")
    key = _key(request.headers.get("Idempotency-Key"))
    return _respond(await _store_order(request, caller, key, body))


async def _store_order(request: Request, caller: Caller, key: str, body: OrderIntake) -> StoredResponse:
    order = OrderRequest(caller.restaurant_id, key, body, request_fingerprint(request.url.path, body))
    # Group commit: written together with the orders that arrive while the current write runs.
    hub: UpstreamMirror | None = request.app.state.upstream
    if hub is None:
        stored: StoredResponse = await request.app.state.db.awrite_many(intake_orders, order)
        return stored
    stored = await request.app.state.db.awrite_many(hub.intake_orders, order)  # also queued for upstream
    hub.writes.kick()
    return stored


@router.post(
    "/orders/{order_id}/items",
    status_code=201,
    response_model=OrderWithItems,
    responses={**ERROR_RESPONSES, 404: {"description": "No such order in this restaurant"}},
    openapi_extra=_idempotency_key_doc(),
)
async def add_order_items(
    order_id: UUID, body: OrderItemsAddition, request: Request, caller: CurrentCaller
) -> JSONResponse:
    require_roles(caller, INTAKE_ROLES, "add items to orders")
    key = _key(request.headers.get("Idempotency-Key"))
    db = request.app.state.db
    hub: UpstreamMirror | None = request.app.state.upstream

    def write(w: Writer) -> StoredResponse:
        mark = len(w.changes)
        stored = intake_items(w, caller.restaurant_id, key, order_id, body, request.url.path)
        if hub is not None:
            hub.queue_writes(w, caller.restaurant_id, w.changes[mark:])  # the new lines, for upstream
        return stored

    stored = await db.awrite(write, group=True)
    if hub is not None:
        hub.writes.kick()
    return _respond(stored)


@router.get("/station-routes", responses=AUTH_RESPONSES)
async def get_station_routes(request: Request, caller: CurrentCaller) -> dict[str, dict[str, str]]:
    """The category → station map in force: the restaurant's own routes over the defaults."""
    own = await request.app.state.db.aread(lambda c: restaurant_routes(c, caller.restaurant_id))
    return {"routes": own, "defaults": DEFAULT_ROUTES}


@router.put("/station-routes", responses=ROUTING_WRITE_RESPONSES)
async def put_station_routes(
    body: dict[str, str], request: Request, caller: CurrentCaller
) -> dict[str, dict[str, str]]:
    """Replace the restaurant's category → station map (admin)."""
    require_roles(caller, {DeviceRole.admin}, "change station routing")
    for category, station in body.items():
        if not category.strip() or len(category) > 60 or not category.isprintable() or text_problem(category):
            raise bad_request("KDS400", f"Invalid category {category!r}")
        if not STATION_NAME.fullmatch(station):
            raise bad_request("KDS400", f"Invalid station {station!r}", hint="Stations are lower-case, like 'grill'.")
    db = request.app.state.db
    await db.awrite(lambda w: replace_routes(w.conn, caller.restaurant_id, body))
    return {
        "routes": await db.aread(lambda c: restaurant_routes(c, caller.restaurant_id)),
        "defaults": DEFAULT_ROUTES,
    }


ORDERS_PATH = "/api/v1/orders"


class IntakeFastPath:
    """`POST /api/v1/orders` answered without FastAPI's routing, dependency solving and body parsing: the
    body validated once, straight from its bytes (`model_validate_json`). That machinery was about 40 % of the
    companion's CPU per order at intake (bench/RESULTS.md).

    An ASGI middleware just inside `BodyLimitsMiddleware`, so the body's size and time limits and the token
    check before the body are exactly the route's (it names the route in the scope as routing would). Only the
    common case is taken here: a valid order, from a POS or admin device, with an Idempotency-Key. Anything else
    (a body that is not JSON or not a valid order, a missing key, another role) goes the ordinary way, with the
    body already read handed on, so every refusal is the route's own answer. Errors of the write itself get the
    app's exception handlers, as they would inside the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route: APIRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != ORDERS_PATH or not _json(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route or self._find_route()  # body_limits: the token before the body
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its order: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        request = Request(scope, receive)
        caller: Caller | None = scope.get(PREAUTHENTICATED)
        try:
            if caller is None:
                raise _Ordinary
            intake = OrderIntake.model_validate_json(body)
            require_roles(caller, INTAKE_ROLES, "create orders")
            key = _key(request.headers.get("Idempotency-Key"))
        except (_Ordinary, ValidationError, ApiError):
            await self.app(scope, _replaying(body, receive), send)
            return
        response: Response
        try:
            response = _respond(await _store_order(request, caller, key, intake))
        except Exception as exc:
            handler = _exception_handler(request.app, exc)
            if handler is None:
                raise  # ServerErrorMiddleware's 500, as for the route
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _find_route(self) -> APIRoute:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path == ORDERS_PATH and "POST" in (route.methods or ()):
                self._route = route
                return route
        raise RuntimeError(f"no POST {ORDERS_PATH} route")


class _Ordinary(Exception):
    """The request is left to the ordinary route."""


def _json(scope: Scope) -> bool:
    """The request says its body is JSON (the case FastAPI parses as JSON; others go the ordinary way)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the ordinary route after the body was read here: the body again, then the rest."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _exception_handler(app: Any, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    """The app's handler for `exc` (its class or nearest base), as Starlette's ExceptionMiddleware finds it."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            handler: Callable[[Request, Exception], Awaitable[Response]] = handlers[cls]
            return handler
    return None
