"""The LAN POS's updates laid over upstream's rows until the hub's copy of upstream shows them.

A POS on the kitchen LAN voids a line or changes an order's notes at the hub; the update is queued for upstream
(`forward_writes`). Until upstream has it, and until the hub's copy of upstream has caught up with it, the
projection of upstream's rows would undo it on every LAN screen for a moment (or, after a hub restart, for as long
as the internet is down). So each queued update is laid over upstream's rows as the hub's unanswered intents are:
while waiting, and once upstream took it until the copy shows each row at or past the change_seq upstream gave it.
Inserted rows need no overlay: the projection removes a line only when upstream deleted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from api_client.models import OrderItemPublic, OrderPublic, OrderWithItems

from ..db.tables import upstream_writes
from ..db.writer import Writer

RowT = TypeVar("RowT", OrderPublic, OrderItemPublic)

KEEP_SETTLED = timedelta(minutes=10)
"""A settled update the copy never shows (its order left the copy) stops being laid over after this."""


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    seq: int
    table: str
    values: Mapping[str, Any]
    ids: frozenset[UUID]
    settled: Mapping[UUID, int] | None
    """Once upstream took it: each row's change_seq there. None while it waits."""

    def covers(self, table: str, row_id: UUID, change_seq: int) -> bool:
        """Whether this update must be laid over that row of upstream's, as the copy holds it at `change_seq`."""
        if table != self.table or row_id not in self.ids:
            return False
        if self.settled is None:
            return True
        taken = self.settled.get(row_id)
        return taken is not None and change_seq < taken


def load(conn: sa.Connection, restaurant_id: str) -> list[PendingUpdate]:
    """The queued updates not refused by upstream, oldest first."""
    q = upstream_writes.c
    query = (
        sa.select(q.seq, q.table_name, q.body, q.settled)
        .where(
            upstream_writes.c.restaurant_id == restaurant_id,
            upstream_writes.c.op == "UPDATE",
            upstream_writes.c.failed.is_(None),
        )
        .order_by(upstream_writes.c.seq)
    )
    return [
        PendingUpdate(
            seq=r.seq,
            table=r.table_name,
            values=r.body["values"],
            ids=frozenset(UUID(i) for i in r.body["ids"]),
            settled=None if r.settled is None else {UUID(k): int(v) for k, v in r.settled.items()},
        )
        for r in conn.execute(query)
    ]


def laid_over(order: OrderWithItems, pending: Sequence[PendingUpdate]) -> OrderWithItems:
    """`order` as upstream's copy holds it, with the updates that copy does not show yet applied in queue order."""
    if not pending:
        return order
    head = _updated("orders", OrderPublic, order, pending)
    items = [_updated("order_items", OrderItemPublic, item, pending) for item in order.order_items]
    if head is order and all(a is b for a, b in zip(items, order.order_items, strict=True)):
        return order
    return OrderWithItems.model_validate(
        {**head.model_dump(mode="json"), "order_items": [i.model_dump(mode="json") for i in items]}
    )


def _updated(table: str, model: type[RowT], row: RowT, pending: Sequence[PendingUpdate]) -> RowT:
    values: dict[str, Any] = {}
    for update in pending:
        if update.covers(table, row.id, row.change_seq):
            values.update(update.values)
    if not values:
        return row
    data = row.model_dump(mode="json")
    fields = {k: v for k, v in values.items() if k in data}
    return model.model_validate({**data, **fields})


def prune(w: Writer, pending: Sequence[PendingUpdate], shown: Iterable[OrderWithItems], now: datetime) -> None:
    """Forget the settled updates the copy now shows everywhere, and those settled longer than `KEEP_SETTLED`."""
    held: dict[tuple[str, UUID], int] = {}
    for order in shown:
        held["orders", order.id] = order.change_seq
        for item in order.order_items:
            held["order_items", item.id] = item.change_seq
    done = [
        u.seq
        for u in pending
        if u.settled is not None
        and all((seen := held.get((u.table, i))) is not None and seen >= seq for i, seq in u.settled.items())
    ]
    stale = upstream_writes.c.settled_at < now - KEEP_SETTLED
    w.conn.execute(
        upstream_writes.delete().where(
            upstream_writes.c.settled.is_not(None), sa.or_(upstream_writes.c.seq.in_(done), stale)
        )
    )
