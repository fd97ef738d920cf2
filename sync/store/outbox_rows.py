"""The outbox table: intents in the order they were made, until the server has answered for each.

An entry is `pending` (not sent, or sent without an answer), `inflight` (in the batch being sent now) or
`rejected` (the server said no: kept, with its reason, to be shown). A confirmed entry is deleted.
Nothing here skips an entry: batches are always the oldest unsettled entries, in `seq` order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from api_client.models import Intent

from .compiled import Compiled
from .tables import INFLIGHT, PENDING, REJECTED, UNSETTLED, outbox


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    intent: Intent
    state: str
    attempts: int
    created_at: float
    last_error: str | None
    reason: str | None


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        seq=row.seq,
        intent=Intent.model_validate_json(row.payload),
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        last_error=row.last_error,
        reason=row.reason,
    )


def _row(intent: Intent, created_at: float, state: str = PENDING, reason: str | None = None) -> dict[str, Any]:
    return {
        "intent_id": str(intent.id),
        "device_seq": intent.device_seq,
        "kind": intent.kind.value,
        "order_id": str(intent.order_id) if intent.order_id else None,
        # The full intent as it will go on the wire: a resend is byte-for-byte the same request.
        "payload": intent.model_dump_json(),
        "state": state,
        "attempts": 0,
        "created_at": created_at,
        "reason": reason,
    }


_ROW_KEYS = ("intent_id", "device_seq", "kind", "order_id", "payload", "state", "attempts", "created_at", "reason")
_APPEND = Compiled(outbox.insert().values({k: sa.bindparam(k, value=None) for k in _ROW_KEYS}))
_DEPTH_AND_OLDEST = Compiled(
    sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(outbox.c.state.in_(UNSETTLED))
)


def append(conn: sa.Connection, intent: Intent, created_at: float) -> None:
    _APPEND.rows(conn, _row(intent, created_at))  # a tap's own row: compiled once (it is on the tap's path)


def append_new(conn: sa.Connection, intents: Sequence[Intent], created_at: float) -> None:
    """Append intents made elsewhere (a hub forwarding its screens' taps), keeping their ids and sequence
    numbers; an intent already in the outbox is left as it is."""
    if intents:
        conn.execute(outbox.insert().prefix_with("OR IGNORE"), [_row(i, created_at) for i in intents])


def append_rejected(conn: sa.Connection, intent: Intent, reason: str, created_at: float) -> None:
    """An intent the server refused after it had confirmed it (a hub's upstream said no later): kept as rejected,
    with the reason, until the cook dismisses it. One still queued here is left alone (its resend will be told)."""
    conn.execute(outbox.insert().prefix_with("OR IGNORE"), _row(intent, created_at, REJECTED, reason))


def unsettled(conn: sa.Connection, limit: int | None = None) -> list[OutboxEntry]:
    """The oldest entries the server has not answered for, in device order."""
    query = sa.select(outbox).where(outbox.c.state.in_(UNSETTLED)).order_by(outbox.c.seq)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(r) for r in conn.execute(query)]


def unsettled_for_order(conn: sa.Connection, order_id: UUID) -> list[Intent]:
    query = (
        sa.select(outbox.c.payload)
        .where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id == str(order_id))
        .order_by(outbox.c.seq)
    )
    payloads: list[str] = list(conn.execute(query).scalars())
    return [Intent.model_validate_json(p) for p in payloads]


_PENDING_ORDER_IDS = Compiled(
    sa.select(outbox.c.order_id).distinct().where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id.is_not(None))
)


def pending_order_ids(conn: sa.Connection) -> set[UUID]:
    """Orders with unanswered intents (read from the indexed column; no payload is parsed). Compiled once: it runs
    after every tap, when the "to sync" count changes."""
    return {UUID(row[0]) for row in _PENDING_ORDER_IDS.rows(conn)}


def rejected(conn: sa.Connection) -> list[OutboxEntry]:
    query = sa.select(outbox).where(outbox.c.state == REJECTED).order_by(outbox.c.seq)
    return [_entry(r) for r in conn.execute(query)]


def mark_inflight(conn: sa.Connection, intent_ids: Sequence[UUID]) -> None:
    conn.execute(
        outbox.update()
        .where(outbox.c.intent_id.in_([str(i) for i in intent_ids]))
        .values(state=INFLIGHT, attempts=outbox.c.attempts + 1)
    )


def reset_inflight(conn: sa.Connection) -> None:
    """After a crash or stop: an unanswered batch is pending again (resending it is safe, the server dedups)."""
    conn.execute(outbox.update().where(outbox.c.state == INFLIGHT).values(state=PENDING))


def confirm(conn: sa.Connection, intent_ids: Sequence[UUID]) -> None:
    """Answered for good: the entries leave the outbox (the server's rows now carry their effect)."""
    conn.execute(outbox.delete().where(outbox.c.intent_id.in_([str(i) for i in intent_ids])))


def reject(conn: sa.Connection, intent_id: UUID, reason: str) -> None:
    conn.execute(
        outbox.update()
        .where(outbox.c.intent_id == str(intent_id))
        .values(state=REJECTED, reason=reason, next_attempt_at=None)
    )


def note_failure(conn: sa.Connection, intent_ids: Sequence[UUID], error: str, next_attempt_at: float) -> None:
    conn.execute(
        outbox.update()
        .where(outbox.c.intent_id.in_([str(i) for i in intent_ids]))
        .values(state=PENDING, last_error=error, next_attempt_at=next_attempt_at)
    )


def dismiss(conn: sa.Connection, intent_id: UUID) -> bool:
    """The cook has seen a rejection: only then does a rejected entry leave the outbox."""
    result = conn.execute(outbox.delete().where(outbox.c.intent_id == str(intent_id), outbox.c.state == REJECTED))
    return result.rowcount == 1


def depth_and_oldest(conn: sa.Connection) -> tuple[int, float | None]:
    """How many entries are unanswered, and when the oldest of them was made (None: none), in one compiled query
    (after every tap, for the "to sync" line)."""
    count, oldest = _DEPTH_AND_OLDEST.rows(conn)[0]
    return int(count), oldest


def depth(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).where(outbox.c.state.in_(UNSETTLED))).scalar_one()


def unsettled_query(order_ids: sa.Select[tuple[str]] | None = None) -> sa.Select[Any]:
    """Unanswered intents with an order, in device order: one statement for any number of orders, to build once and
    run many times. `order_ids` is a subquery of order ids to restrict to (a subquery, not a list of values, so the
    statement's size and bound parameters stay the same however many orders a screen has)."""
    query = sa.select(outbox).where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id.is_not(None))
    if order_ids is not None:
        query = query.where(outbox.c.order_id.in_(order_ids))
    return query.order_by(outbox.c.seq)


def unsettled_order_ids() -> sa.Select[tuple[str | None]]:
    """A subquery of the orders with unanswered intents, to combine with other conditions in one statement."""
    return sa.select(outbox.c.order_id).where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id.is_not(None))
