"""POS order intake with idempotency keys: a retried request is answered, never stored twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from api_client.models import OrderIntake, OrderItemsAddition

from .db.tables import idempotency_keys, orders
from .db.writer import Writer
from .errors import ApiError
from .load_routing import Balancer, balancer
from .orders import add_items, create_order, is_change_after_send, item_values, load_order
from .prep_times import menu_prep
from .routing import restaurant_routes


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(path: str, body: BaseModel) -> str:
    """What makes two requests "the same": the path and the validated body, canonically serialised."""
    canonical = json.dumps({"path": path, "body": body.model_dump(mode="json")}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class OrderRequest:
    """One `POST /api/v1/orders`, validated, waiting to be written (see `intake_orders`)."""

    restaurant_id: str
    key: str
    intake: OrderIntake
    fingerprint: str


_STORED_KEYS = sa.select(
    idempotency_keys.c.key, idempotency_keys.c.request_hash, idempotency_keys.c.status_code, idempotency_keys.c.response
).where(
    idempotency_keys.c.restaurant_id == sa.bindparam("restaurant_id"),
    idempotency_keys.c.key.in_(sa.bindparam("keys", expanding=True)),
)
_TAKEN_ORDER_IDS = sa.select(orders.c.id).where(orders.c.id.in_(sa.bindparam("ids", expanding=True)))


def _reused_key(key: str) -> ApiError:
    return ApiError(
        409,
        "KDS409",
        "Idempotency-Key was already used for a different request",
        details=f"key {key!r}",
        hint="Use a new Idempotency-Key for every new order; reuse it only to retry the same request.",
    )


def _replay(w: Writer, restaurant_id: str, key: str, fingerprint: str) -> StoredResponse | None:
    row = w.conn.execute(_STORED_KEYS, {"restaurant_id": restaurant_id, "keys": [key]}).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise _reused_key(key)
    return StoredResponse(row.status_code, row.response, replayed=True)


def _key_row(w: Writer, restaurant_id: str, key: str, fingerprint: str, response: StoredResponse) -> dict[str, Any]:
    return {
        "restaurant_id": restaurant_id,
        "key": key,
        "request_hash": fingerprint,
        "status_code": response.status_code,
        "response": response.body,
        "created_at": w.now,
    }


def intake_orders(w: Writer, requests: Sequence[OrderRequest]) -> list[StoredResponse | ApiError]:
    """Store many POS orders at once, each exactly as `intake_order` alone would, in order.

    Set-based: the batch's Idempotency-Keys and given order ids are looked up in one query each, each
    restaurant's routes once, and the orders, items and key records are written with one executemany per
    table. A request that fails (a key reused for another body, an order id that exists, two items with
    one id) gets its error and writes nothing; the others go on. The same key twice in a batch is stored
    once, and the second request is answered with the first one's response, replayed.
    """
    conn = w.conn
    stored: dict[tuple[str, str], tuple[str, StoredResponse]] = {}
    for restaurant_id in {r.restaurant_id for r in requests}:
        keys = list({r.key for r in requests if r.restaurant_id == restaurant_id})
        for row in conn.execute(_STORED_KEYS, {"restaurant_id": restaurant_id, "keys": keys}):
            stored[(restaurant_id, row.key)] = (
                row.request_hash,
                StoredResponse(row.status_code, row.response, replayed=True),
            )
    given = list({r.intake.id for r in requests if r.intake.id is not None})
    taken = set(conn.execute(_TAKEN_ORDER_IDS, {"ids": given}).scalars()) if given else set()
    routes: dict[str, dict[str, str]] = {}
    preps: dict[str, dict[str, int]] = {}
    balances: dict[str, Balancer] = {}
    key_rows: list[dict[str, Any]] = []
    outcomes: list[StoredResponse | ApiError] = []
    for request in requests:
        outcome = _intake_one(w, request, stored, taken, routes, preps, balances)
        if isinstance(outcome, StoredResponse) and not outcome.replayed:
            key_rows.append(_key_row(w, request.restaurant_id, request.key, request.fingerprint, outcome))
            replay = StoredResponse(outcome.status_code, outcome.body, replayed=True)
            stored[(request.restaurant_id, request.key)] = (request.fingerprint, replay)
        outcomes.append(outcome)
    w.flush()
    if key_rows:
        conn.execute(idempotency_keys.insert(), key_rows)
    return outcomes


def _intake_one(
    w: Writer,
    request: OrderRequest,
    stored: dict[tuple[str, str], tuple[str, StoredResponse]],
    taken: set[Any],
    routes: dict[str, dict[str, str]],
    preps: dict[str, dict[str, int]],
    balances: dict[str, Balancer],
) -> StoredResponse | ApiError:
    prior = stored.get((request.restaurant_id, request.key))
    if prior is not None:
        fingerprint, response = prior
        return response if fingerprint == request.fingerprint else _reused_key(request.key)
    intake = request.intake
    if intake.id is not None and intake.id in taken:
        return ApiError(
            409,
            "23505",
            'duplicate key value violates unique constraint "orders_pkey"',
            details=f"Key (id)=({intake.id}) already exists.",
        )
    ids = [i.id for i in intake.items if i.id is not None]
    if len(ids) != len(set(ids)):
        return ApiError(422, "KDS422", "Two items of the order have the same id")
    if request.restaurant_id not in routes:
        routes[request.restaurant_id] = restaurant_routes(w.conn, request.restaurant_id)
        preps[request.restaurant_id] = menu_prep(w.conn, request.restaurant_id)
        balances[request.restaurant_id] = balancer(w.conn, request.restaurant_id)
    w.now = datetime.now(UTC)  # each order's own time, as if it had its own transaction
    restaurant = request.restaurant_id
    order = create_order(
        w, restaurant, intake, routes[restaurant], defer=True, prep=preps[restaurant], balance=balances[restaurant]
    )
    taken.add(order.id)
    return StoredResponse(201, order.model_dump(mode="json"), replayed=False)


def intake_order(w: Writer, restaurant_id: str, key: str, intake: OrderIntake, path: str) -> StoredResponse:
    """Store one POS order (or replay the answer to its key); `ApiError` if it cannot be."""
    request = OrderRequest(restaurant_id, key, intake, request_fingerprint(path, intake))
    (outcome,) = intake_orders(w, [request])
    if isinstance(outcome, ApiError):
        raise outcome
    return outcome


def intake_items(
    w: Writer, restaurant_id: str, key: str, order_id: Any, addition: OrderItemsAddition, path: str
) -> StoredResponse:
    """Add items to an order the kitchen has: they are flagged as changes until a cook acknowledges them."""
    fingerprint = request_fingerprint(path, addition)
    stored = _replay(w, restaurant_id, key, fingerprint)
    if stored is not None:
        return stored
    order = load_order(w.conn, restaurant_id, order_id)
    if order is None:
        raise ApiError(404, "PGRST116", "Order not found", details=f"No order {order_id} in this restaurant")
    if order.status.value in ("served", "cancelled"):
        raise ApiError(409, "KDS409", f"Order {order.number} is {order.status.value}: items cannot be added")
    routes = restaurant_routes(w.conn, restaurant_id)
    flagged = is_change_after_send(order, w.now)
    rows = [
        item_values(restaurant_id, order.id, item, routes, changed_after_send=flagged, created_at=w.now)
        for item in addition.items
    ]
    saved = add_items(w, order, rows)
    response = StoredResponse(201, saved.model_dump(mode="json"), replayed=False)
    w.conn.execute(idempotency_keys.insert(), _key_row(w, restaurant_id, key, fingerprint, response))
    return response
