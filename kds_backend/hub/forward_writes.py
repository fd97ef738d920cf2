"""A hub's POS writes, forwarded upstream: queued in the hub transaction that applied them, sent in order.

A POS on the kitchen LAN keeps working while the internet is down: its orders, added lines and PostgREST inserts
and updates are applied at the hub (the LAN screens show them at once) and queued in `upstream_writes` in the same
transaction. They go upstream as PostgREST writes of the rows as the hub made them, ids included, so a resend
after a lost answer is recognised (409, the id exists) instead of making a second order; that works against a
companion and a Supabase project alike. Every queued write goes before any intent sent after it
(`ForwardingSender`), so a tap on a ticket made at the hub never reaches upstream before its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic_core import to_jsonable_python

from api_client.backoff import Backoff
from api_client.client import KdsApiClient
from api_client.errors import ApiError, ClientError
from api_client.models import Intent, IntentResult, OrderInsert, OrderItemInsert

from ..db.database import Database
from ..db.tables import upstream_writes
from ..db.writer import RowChange, Writer

log = logging.getLogger(__name__)

INSERTABLE: dict[str, tuple[str, ...]] = {
    "orders": tuple(OrderInsert.model_fields),
    "order_items": tuple(OrderItemInsert.model_fields),
}
"""What a POS may set when inserting (Supabase's column grants): the rest upstream stamps itself."""
_BATCH = 50
_IDLE_S = 5.0


def queue_writes(
    w: Writer, restaurant_id: str, changes: Sequence[RowChange], update: tuple[str, Mapping[str, Any]] | None = None
) -> bool:
    """Queue, in the hub's write, the rows `changes` inserted and (for a PATCH) the values it set on the rows it
    updated. Returns whether anything was queued."""
    inserts: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        columns = INSERTABLE.get(change.table)
        if change.type == "INSERT" and columns is not None and change.record is not None:
            row = {c: change.record[c] for c in columns if c in change.record}
            inserts.setdefault(change.table, []).append(to_jsonable_python(row))
    queued = [("INSERT", table, {"rows": rows}) for table, rows in inserts.items()]
    if update is not None:
        table, values = update
        ids = [str(c.record["id"]) for c in changes if c.type == "UPDATE" and c.table == table and c.record]
        if ids and values:
            queued.append(("UPDATE", table, {"ids": ids, "values": to_jsonable_python(dict(values))}))
    if queued:
        w.conn.execute(
            upstream_writes.insert(),
            [
                {"restaurant_id": restaurant_id, "table_name": t, "op": op, "body": body, "created_at": w.now}
                for op, t, body in queued
            ],
        )
    return bool(queued)


class WriteForwarder:
    def __init__(self, db: Database, api: KdsApiClient) -> None:
        self.db, self.api = db, api
        self._lock = asyncio.Lock()
        self._kick = asyncio.Event()

    def kick(self) -> None:
        self._kick.set()

    async def drain(self) -> None:
        """Send every queued write, oldest first. Raises (leaving it and the rest queued) when upstream does not
        answer; a write upstream refuses for good is set aside, logged, and the queue goes on."""
        async with self._lock:
            while batch := await self.db.aread(_next_batch):
                for row in batch:
                    outcome = await self._send(row)
                    await self.db.awrite(lambda w, seq=row.seq, outcome=outcome: _settle(w, seq, outcome))

    async def _send(self, row: sa.Row[Any]) -> str | dict[str, int] | None:
        """Once upstream has the write: None, or for an update the change_seq each row has there now; the reason
        (a string) when upstream refuses it for good."""
        try:
            if row.op == "INSERT":
                await self.api.insert_rows(row.table_name, row.body["rows"])
                return None
            ids = [UUID(i) for i in row.body["ids"]]
            seqs = await self.api.update_rows(row.table_name, ids, row.body["values"])
            return {str(i): seq for i, seq in seqs.items()}
        except ApiError as exc:
            if exc.retryable or exc.status == 401:
                raise
            if row.op == "INSERT" and exc.status == 409 and exc.code == "23505":
                return None  # sent before, the answer lost: upstream has these rows already
            log.error("upstream refused the hub's %s of %s (queued #%s): %s", row.op, row.table_name, row.seq, exc)
            return f"{exc.status} {exc.code}: {exc.message}"[:500]

    async def run(self) -> None:
        """Forward whatever is queued, when told and every few seconds, backing off while upstream is away."""
        backoff = Backoff(0.5, 30.0)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), _IDLE_S)
            self._kick.clear()
            try:
                await self.drain()
                backoff.reset()
            except ClientError as exc:
                log.info("forwarding the hub's POS writes waits: %s", exc)
                await asyncio.sleep(backoff.next_delay())
            except Exception:
                log.exception("forwarding the hub's POS writes failed")
                await asyncio.sleep(backoff.next_delay())


class ForwardingSender:
    """The mirror's intent sender: queued POS writes first, so upstream has every order before a tap on it."""

    def __init__(self, api: KdsApiClient, writes: WriteForwarder) -> None:
        self.api, self.writes = api, writes

    async def apply_intents(self, intents: Sequence[Intent]) -> list[IntentResult]:
        await self.writes.drain()
        return await self.api.apply_intents(intents)


WAITING = sa.and_(upstream_writes.c.failed.is_(None), upstream_writes.c.settled.is_(None))
"""Queued writes upstream has not answered yet."""


def _next_batch(conn: sa.Connection) -> list[sa.Row[Any]]:
    query = sa.select(upstream_writes).where(WAITING).order_by(upstream_writes.c.seq)
    return list(conn.execute(query.limit(_BATCH)))


def _settle(w: Writer, seq: int, outcome: str | dict[str, int] | None) -> None:
    row = upstream_writes.c.seq == seq
    if outcome is None:
        w.conn.execute(upstream_writes.delete().where(row))
    elif isinstance(outcome, str):
        w.conn.execute(upstream_writes.update().where(row).values(failed=outcome))
    else:
        # Kept until the hub's copy of upstream shows these rows at these change_seqs (`pending_updates`).
        w.conn.execute(upstream_writes.update().where(row).values(settled=outcome, settled_at=w.now))
