"""Applying intents exactly once: the ledger, the device cursors and the order state machine.

One batch is one write transaction. For each intent, in order: an id already in the ledger, or a
device sequence at or below the device's cursor, is a duplicate and changes nothing; otherwise the
state machine decides, and the effect, the ledger row and the cursor are written together.
A batch is read and written set-based (see `apply_intents`); the outcome is the same as one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from api_client.menu_rules import eighty_six_refusal, menu_key, parse_eighty_six
from api_client.models import (
    DeviceRole,
    Intent,
    IntentKind,
    IntentResult,
    IntentStatus,
    MenuAvailabilityPublic,
    OrderWithItems,
)
from api_client.order_machine import INTENT_ROLES, Rejection, apply_intent
from api_client.plant import planted

from .auth.pairing import known_stations
from .db.tables import device_cursors, intent_ledger, menu_availability
from .db.writer import Writer
from .orders import as_loaded, load_orders, save_order


def apply_intents(w: Writer, restaurant_id: str, role: DeviceRole, intents: list[Intent]) -> list[IntentResult]:
    """Apply `intents` in order, exactly as one at a time would, but set-based: the batch's ledger entries,
    device cursors and orders (with their items) are read in one query each, each intent is decided on the
    orders as the intents before it left them, and the ledger rows, cursors and changed rows are written
    together at the end (one executemany per table)."""
    if not intents:
        return []
    batch = _Batch(w, restaurant_id, role, intents)
    results = [batch.apply(intent) for intent in intents]
    batch.write()
    return results


@dataclass(frozen=True)
class _Seen:
    """An intent id's ledger entry, as `intent_ledger` holds it."""

    restaurant_id: str
    status: IntentStatus
    reason: str | None
    order_id: UUID | None


_LEDGER_BY_ID = sa.select(
    intent_ledger.c.intent_id,
    intent_ledger.c.restaurant_id,
    intent_ledger.c.status,
    intent_ledger.c.reason,
    intent_ledger.c.order_id,
).where(intent_ledger.c.intent_id.in_(sa.bindparam("ids", expanding=True)))
_CURSORS = sa.select(device_cursors.c.device_id, device_cursors.c.last_seq).where(
    device_cursors.c.restaurant_id == sa.bindparam("restaurant_id"),
    device_cursors.c.device_id.in_(sa.bindparam("devices", expanding=True)),
)
_SET_CURSOR = (
    device_cursors.update()
    .where(
        device_cursors.c.restaurant_id == sa.bindparam("r_id"),
        device_cursors.c.device_id == sa.bindparam("d_id"),
    )
    .values(last_seq=sa.bindparam("seq"))
)


class _Batch:
    """One request's intents: what the database held when it began, and what the intents did since."""

    def __init__(self, w: Writer, restaurant_id: str, role: DeviceRole, intents: list[Intent]) -> None:
        self.w, self.restaurant_id, self.role = w, restaurant_id, role
        conn = w.conn
        self.seen: dict[UUID, _Seen] = {
            row.intent_id: _Seen(row.restaurant_id, IntentStatus(row.status), row.reason, row.order_id)
            for row in conn.execute(_LEDGER_BY_ID, {"ids": list({i.id for i in intents})})
        }
        devices = list({i.device_id for i in intents})
        self.cursors: dict[str, int] = dict(
            conn.execute(_CURSORS, {"restaurant_id": restaurant_id, "devices": devices}).all()
        )
        self.stored_cursors = set(self.cursors)
        order_ids = {i.order_id for i in intents if i.order_id is not None}
        order_ids |= {s.order_id for s in self.seen.values() if s.order_id and s.restaurant_id == restaurant_id}
        self.orders: dict[UUID, OrderWithItems] = load_orders(conn, restaurant_id, order_ids)
        self.ledger_rows: list[dict[str, Any]] = []
        self.skip_ledger = planted("skip_ledger")
        self.stations: frozenset[str] | None = None

    def _known_stations(self) -> frozenset[str]:
        """The restaurant's stations (GET /api/v1/stations' list), read once a batch and only for a transfer."""
        if self.stations is None:
            self.stations = frozenset(known_stations(self.w.conn, self.restaurant_id))
        return self.stations

    def apply(self, intent: Intent) -> IntentResult:
        seen = self.seen.get(intent.id)
        if seen is not None:
            if self.skip_ledger:
                return self._decide(intent)  # planted bug (fault harness): decided and applied again
            if seen.restaurant_id != self.restaurant_id:
                # A UUID collision across kitchens is an attack or a bug; say nothing about the other kitchen.
                return _rejected(intent, "This intent id was already used; send the action again with a new id")
            order = self.orders.get(seen.order_id) if seen.order_id else None
            return IntentResult(
                id=intent.id,
                status=IntentStatus.duplicate,
                original_status=seen.status,
                reason=seen.reason,
                order=order,
            )
        last_seq = self.cursors.get(intent.device_id)
        if last_seq is not None and intent.device_seq <= last_seq:
            # A new id with a used sequence number: never applied, and nothing to report as its outcome.
            reason = f"device sequence {intent.device_seq} was already used (last applied {last_seq})"
            return IntentResult(id=intent.id, status=IntentStatus.duplicate, reason=reason)

        result = self._decide(intent)
        reason = _ledger_reason(result.reason)
        self.ledger_rows.append(
            {
                "intent_id": intent.id,
                "restaurant_id": self.restaurant_id,
                "device_id": intent.device_id,
                "device_seq": intent.device_seq,
                "kind": intent.kind.value,
                "status": result.status.value,
                "reason": reason,
                "order_id": intent.order_id,
                "received_at": self.w.now,
            }
        )
        self.seen[intent.id] = _Seen(self.restaurant_id, result.status, reason, intent.order_id)
        self.cursors[intent.device_id] = intent.device_seq
        return result

    def _decide(self, intent: Intent) -> IntentResult:
        done_at = self.w.now + self.w.intents_decided * _TICK
        self.w.intents_decided += 1
        if intent.kind is IntentKind.eighty_six:
            return _eighty_six(self.w, self.restaurant_id, self.role, intent)
        if intent.order_id is None:
            return _rejected(intent, f"{intent.kind.value} needs an order")
        order = self.orders.get(intent.order_id)
        if order is None:
            return _rejected(intent, "That order is not in this kitchen")
        outcome = apply_intent(order, intent, self.role)
        if isinstance(outcome, Rejection):
            return _rejected(intent, outcome.reason, order=order)
        if intent.kind is IntentKind.transfer:
            # The machine checked the form of args.to; only the server knows the kitchen's stations (a ticket
            # moved to a station no screen shows would vanish from every rail).
            to = intent.args["to"]
            if to not in self._known_stations():
                return _rejected(intent, f"There is no station {to} in this kitchen", order=order)
        # Each intent of the transaction finishes items a microsecond after the one before (the first at the
        # writer's time): a strike and the bump after it in one batch keep their order, which a recall needs to reopen
        # only what the bump finished (order_machine._last_finished). The SQL twin stamps the same.
        saved = save_order(self.w, order, outcome, defer=True, done_at=done_at)
        # The next intent on this order sees it as a fresh load would (items re-sorted by change_seq).
        self.orders[intent.order_id] = as_loaded(saved)
        return IntentResult(id=intent.id, status=IntentStatus.applied, order=saved)

    def write(self) -> None:
        """The changed rows, the ledger rows and the devices' cursors, one executemany each."""
        conn = self.w.conn
        self.w.flush()
        if self.ledger_rows:
            conn.execute(intent_ledger.insert(), self.ledger_rows)
        new = [
            {"restaurant_id": self.restaurant_id, "device_id": d, "last_seq": seq}
            for d, seq in self.cursors.items()
            if d not in self.stored_cursors
        ]
        if new:
            conn.execute(device_cursors.insert(), new)
        moved = [
            {"r_id": self.restaurant_id, "d_id": d, "seq": seq}
            for d, seq in self.cursors.items()
            if d in self.stored_cursors
        ]
        if moved:
            conn.execute(_SET_CURSOR, moved)


_TICK = timedelta(microseconds=1)
"""How much later each intent of a batch stamps the items it finishes (see `_Batch._decide`)."""

_REASON_MAX = 500
"""Length of `intent_ledger.reason` (VARCHAR(500))."""


def _ledger_reason(reason: str | None) -> str | None:
    """The reason as the ledger keeps it: a longer one would fail the whole batch on PostgreSQL."""
    if reason is None or len(reason) <= _REASON_MAX:
        return reason
    return reason[: _REASON_MAX - 3] + "..."


def _rejected(intent: Intent, reason: str, **extra: Any) -> IntentResult:
    return IntentResult(id=intent.id, status=IntentStatus.rejected, reason=reason, **extra)


def _eighty_six(w: Writer, restaurant_id: str, role: DeviceRole, intent: Intent) -> IntentResult:
    """Mark a menu item unavailable (`available: false`, the default) or back on (`available: true`)."""
    if role not in INTENT_ROLES:
        return _rejected(intent, f"a {role.value} device cannot 86 items")
    wanted = parse_eighty_six(intent.args)
    if isinstance(wanted, str):
        return _rejected(intent, wanted)
    row = (
        w.conn.execute(
            sa.select(menu_availability).where(
                menu_availability.c.restaurant_id == restaurant_id,
                sa.func.lower(menu_availability.c.item_name) == menu_key(wanted.item_name),
            )
        )
        .mappings()
        .first()
    )
    refusal = eighty_six_refusal(
        wanted, None if row is None else row["item_name"], None if row is None else row["available"]
    )
    if refusal is not None:
        return _rejected(intent, refusal)
    values = {"available": wanted.available, "reason": wanted.reason, "updated_by": intent.device_id}
    if row is None:
        saved = w.insert(
            menu_availability,
            {"id": uuid4(), "restaurant_id": restaurant_id, "item_name": wanted.item_name, **values},
        )
    else:
        saved = w.update(menu_availability, dict(row), values)
    return IntentResult(
        id=intent.id, status=IntentStatus.applied, menu_item=MenuAvailabilityPublic.model_validate(saved)
    )
