"""Committed changes from PostgreSQL, whichever companion instance committed them: LISTEN/NOTIFY + the change log.

Every write transaction on PostgreSQL appends its changes to `change_log` and sends `NOTIFY kds_changes`
in the same transaction (`db/change_log.py`), so a notification means "rows with a higher change_seq are
committed". Each instance keeps one listening connection and one reading connection; on a notification
(or every `poll_s`, in case one was missed) it reads `seq > last seen` in order and hands the changes on.
Commits are serialised by the change counter, so the visible log is always a gap-free prefix of commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa

from api_client.backoff import Backoff

from ..db.change_log import CHANNEL
from ..db.writer import RowChange

log = logging.getLogger(__name__)

READ_BATCH = 1000
RETAIN_S = 600
"""How long the log keeps changes: enough for a reconnecting listener, small enough to stay tiny."""

SELECT_AFTER = (
    "SELECT seq, table_name, type, restaurant_id, record, old_record, commit_timestamp"
    " FROM change_log WHERE seq > %s ORDER BY seq LIMIT %s"
)


def row_change(
    table: str, type_: str, _restaurant_id: str | None, record: Any, old_record: Any, committed: datetime
) -> RowChange:
    """A log row as the RowChange the committing instance published (records already in JSON form)."""
    return RowChange(table, type_, record, old_record, committed)  # type: ignore[arg-type]


def conninfo(database_url: str) -> str:
    """A libpq URI for psycopg, from the SQLAlchemy URL the companion is configured with."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgChangeListener:
    def __init__(
        self,
        database_url: str,
        on_changes: Callable[[list[RowChange]], None],
        *,
        poll_s: float = 5.0,
        prune_every_s: float = 60.0,
    ) -> None:
        self.conninfo = conninfo(database_url)
        self.on_changes = on_changes
        self.poll_s = poll_s
        self.prune_every_s = prune_every_s
        self.last_seq: int | None = None
        self._ready = asyncio.Event()
        self._closed = False

    def close(self) -> None:
        """Stop reconnecting; the running task ends at its next await or when cancelled."""
        self._closed = True

    async def wait_ready(self, timeout_s: float) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with capped backoff; nothing committed meanwhile is skipped."""
        backoff = Backoff(0.1, 5.0, jitter=False)  # one listener per process: nothing to spread apart
        while not self._closed:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                task = asyncio.current_task()
                if self._closed or (task is not None and task.cancelling()):
                    # A driver may turn a cancellation into its own error; never retry through a shutdown.
                    raise asyncio.CancelledError from exc
                self._ready.clear()
                delay = backoff.next_delay()
                log.warning("realtime change listener lost PostgreSQL (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            else:
                backoff.reset()

    async def _session(self) -> None:
        listen = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        read = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        async with listen, read:
            await listen.execute(f"LISTEN {CHANNEL}")
            if self.last_seq is None:
                # Realtime has no history: start from what is committed now (the counter is the last seq).
                cur = await read.execute("SELECT value FROM change_counter WHERE id = 1")
                row = await cur.fetchone()
                self.last_seq = int(row[0]) if row else 0
            wake = asyncio.Event()
            wake.set()  # read once now: after a reconnect, catch up on what committed while away
            self._ready.set()
            notify_task = asyncio.create_task(self._pump_notifies(listen, wake))
            try:
                await self._read_loop(read, wake, notify_task)
            finally:
                notify_task.cancel()
                await asyncio.wait({notify_task})  # never swallows a cancellation of this task

    async def _pump_notifies(self, listen: psycopg.AsyncConnection[Any], wake: asyncio.Event) -> None:
        async for _notify in listen.notifies():
            wake.set()

    async def _read_loop(
        self, read: psycopg.AsyncConnection[Any], wake: asyncio.Event, notify_task: asyncio.Task[None]
    ) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + self.prune_every_s
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a cancellation that races it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await wake.wait()
            if notify_task.done():
                notify_task.result()  # the listening connection died: raise, reconnect
                raise ConnectionError("notification stream ended")
            wake.clear()
            await self._drain(read)
            if loop.time() >= next_prune:
                await read.execute(
                    "DELETE FROM change_log WHERE commit_timestamp < now() - make_interval(secs => %s)", (RETAIN_S,)
                )
                next_prune = loop.time() + self.prune_every_s

    async def _drain(self, read: psycopg.AsyncConnection[Any]) -> None:
        while True:
            cur = await read.execute(SELECT_AFTER, (self.last_seq, READ_BATCH))
            rows = await cur.fetchall()
            if not rows:
                return
            self.last_seq = int(rows[-1][0])
            try:
                self.on_changes([row_change(*row[1:]) for row in rows])
            except Exception:
                log.exception("realtime fan-out of changes up to seq %s failed", self.last_seq)
            if len(rows) < READ_BATCH:
                return
