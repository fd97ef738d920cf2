"""POS order intake with idempotency keys: a retried request is answered, never stored twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from api_client.models import OrderIntake, OrderItemsAddition

from .db.tables import idempotency_keys
from .db.writer import Writer
from .errors import ApiError
from .orders import add_items, create_order, is_change_after_send, item_values, load_order, order_exists
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


def _replay(w: Writer, restaurant_id: str, key: str, fingerprint: str) -> StoredResponse | None:
    row = w.conn.execute(
        sa.select(idempotency_keys).where(
            idempotency_keys.c.restaurant_id == restaurant_id, idempotency_keys.c.key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ApiError(
            409,
            "KDS409",
            "Idempotency-Key was already used for a different request",
            details=f"key {key!r}",
            hint="Use a new Idempotency-Key for every new order; reuse it only to retry the same request.",
        )
    return StoredResponse(row.status_code, row.response, replayed=True)


def _remember(w: Writer, restaurant_id: str, key: str, fingerprint: str, response: StoredResponse) -> None:
    w.conn.execute(
        idempotency_keys.insert().values(
            restaurant_id=restaurant_id,
            key=key,
            request_hash=fingerprint,
            status_code=response.status_code,
            response=response.body,
            created_at=w.now,
        )
    )


def intake_order(w: Writer, restaurant_id: str, key: str, intake: OrderIntake, path: str) -> StoredResponse:
    fingerprint = request_fingerprint(path, intake)
    stored = _replay(w, restaurant_id, key, fingerprint)
    if stored is not None:
        return stored
    if intake.id is not None and order_exists(w.conn, intake.id):
        raise ApiError(
            409,
            "23505",
            'duplicate key value violates unique constraint "orders_pkey"',
            details=f"Key (id)=({intake.id}) already exists.",
        )
    ids = [i.id for i in intake.items if i.id is not None]
    if len(ids) != len(set(ids)):
        raise ApiError(422, "KDS422", "Two items of the order have the same id")
    order = create_order(w, restaurant_id, intake, restaurant_routes(w.conn, restaurant_id))
    response = StoredResponse(201, order.model_dump(mode="json"), replayed=False)
    _remember(w, restaurant_id, key, fingerprint, response)
    return response


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
    _remember(w, restaurant_id, key, fingerprint, response)
    return response
