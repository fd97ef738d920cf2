"""Applying intents exactly once: the ledger, the device cursors and the order state machine.

One batch is one write transaction. For each intent, in order: an id already in the ledger, or a
device sequence at or below the device's cursor, is a duplicate and changes nothing; otherwise the
state machine decides, and the effect, the ledger row and the cursor are written together.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from api_client.models import (
    DeviceRole,
    Intent,
    IntentKind,
    IntentResult,
    IntentStatus,
    MenuAvailabilityPublic,
)
from api_client.order_machine import INTENT_ROLES, Rejection, apply_intent
from api_client.plant import planted

from .db.tables import device_cursors, intent_ledger, menu_availability
from .db.writer import Writer
from .orders import load_order, save_order


def apply_intents(w: Writer, restaurant_id: str, role: DeviceRole, intents: list[Intent]) -> list[IntentResult]:
    return [_apply_one(w, restaurant_id, role, intent) for intent in intents]


def _apply_one(w: Writer, restaurant_id: str, role: DeviceRole, intent: Intent) -> IntentResult:
    conn = w.conn
    seen = conn.execute(
        sa.select(
            intent_ledger.c.restaurant_id, intent_ledger.c.status, intent_ledger.c.reason, intent_ledger.c.order_id
        ).where(intent_ledger.c.intent_id == intent.id)
    ).first()
    if seen is not None:
        if planted("skip_ledger"):
            return _decide(w, restaurant_id, role, intent)  # planted bug (fault harness): decided and applied again
        if seen.restaurant_id != restaurant_id:
            # A UUID collision across kitchens is an attack or a bug; say nothing about the other kitchen.
            return _rejected(intent, "This intent id was already used; send the action again with a new id")
        return _duplicate(conn, restaurant_id, intent, IntentStatus(seen.status), seen.reason, seen.order_id)
    cursor = (device_cursors.c.restaurant_id == restaurant_id) & (device_cursors.c.device_id == intent.device_id)
    last_seq = conn.execute(sa.select(device_cursors.c.last_seq).where(cursor)).scalar_one_or_none()
    if last_seq is not None and intent.device_seq <= last_seq:
        # A new id with a used sequence number: never applied, and nothing to report as its outcome.
        reason = f"device sequence {intent.device_seq} was already used (last applied {last_seq})"
        return IntentResult(id=intent.id, status=IntentStatus.duplicate, reason=reason)

    result = _decide(w, restaurant_id, role, intent)
    conn.execute(
        intent_ledger.insert().values(
            intent_id=intent.id,
            restaurant_id=restaurant_id,
            device_id=intent.device_id,
            device_seq=intent.device_seq,
            kind=intent.kind.value,
            status=result.status.value,
            reason=_ledger_reason(result.reason),
            order_id=intent.order_id,
            received_at=w.now,
        )
    )
    if last_seq is None:
        conn.execute(
            device_cursors.insert().values(
                restaurant_id=restaurant_id, device_id=intent.device_id, last_seq=intent.device_seq
            )
        )
    else:
        conn.execute(device_cursors.update().where(cursor).values(last_seq=intent.device_seq))
    return result


_REASON_MAX = 500
"""Length of `intent_ledger.reason` (VARCHAR(500))."""


def _ledger_reason(reason: str | None) -> str | None:
    """The reason as the ledger keeps it: a longer one would fail the whole batch on PostgreSQL."""
    if reason is None or len(reason) <= _REASON_MAX:
        return reason
    return reason[: _REASON_MAX - 3] + "..."


def _duplicate(
    conn: sa.Connection,
    restaurant_id: str,
    intent: Intent,
    original: IntentStatus,
    reason: str | None,
    order_id: UUID | None,
) -> IntentResult:
    order = load_order(conn, restaurant_id, order_id) if order_id else None
    return IntentResult(
        id=intent.id, status=IntentStatus.duplicate, original_status=original, reason=reason, order=order
    )


def _rejected(intent: Intent, reason: str, **extra: Any) -> IntentResult:
    return IntentResult(id=intent.id, status=IntentStatus.rejected, reason=reason, **extra)


def _decide(w: Writer, restaurant_id: str, role: DeviceRole, intent: Intent) -> IntentResult:
    if intent.kind is IntentKind.eighty_six:
        return _eighty_six(w, restaurant_id, role, intent)
    if intent.order_id is None:
        return _rejected(intent, f"{intent.kind.value} needs an order")
    order = load_order(w.conn, restaurant_id, intent.order_id)
    if order is None:
        return _rejected(intent, "That order is not in this kitchen")
    outcome = apply_intent(order, intent, role)
    if isinstance(outcome, Rejection):
        return _rejected(intent, outcome.reason, order=order)
    saved = save_order(w, order, outcome)
    return IntentResult(id=intent.id, status=IntentStatus.applied, order=saved)


def _eighty_six(w: Writer, restaurant_id: str, role: DeviceRole, intent: Intent) -> IntentResult:
    """Mark a menu item unavailable (`available: false`, the default) or back on (`available: true`)."""
    if role not in INTENT_ROLES:
        return _rejected(intent, f"a {role.value} device cannot 86 items")
    name = intent.args.get("item_name")
    available = intent.args.get("available", False)
    reason = intent.args.get("reason")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        return _rejected(intent, "eighty_six needs args.item_name (the menu item's name)")
    if not isinstance(available, bool):
        return _rejected(intent, "args.available must be true or false")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
        return _rejected(intent, "args.reason must be a short text")
    name = name.strip()
    row = (
        w.conn.execute(
            sa.select(menu_availability).where(
                menu_availability.c.restaurant_id == restaurant_id,
                sa.func.lower(menu_availability.c.item_name) == name.lower(),
            )
        )
        .mappings()
        .first()
    )
    values = {"available": available, "reason": reason, "updated_by": intent.device_id}
    if row is None:
        if available:
            return _rejected(intent, f"{name} is not 86'd")
        saved = w.insert(
            menu_availability, {"id": uuid4(), "restaurant_id": restaurant_id, "item_name": name, **values}
        )
    else:
        if row["available"] == available:
            return _rejected(intent, f"{row['item_name']} is {'already available' if available else 'already 86d'}")
        saved = w.update(menu_availability, dict(row), values)
    return IntentResult(
        id=intent.id, status=IntentStatus.applied, menu_item=MenuAvailabilityPublic.model_validate(saved)
    )
