"""`StoreWriter`: the read path's transactions on one dedicated thread, off the loop that reads the socket and paints.

A batch of realtime frames or a catch-up page is applied in one transaction (`LocalStore.refetchable`: server rows,
tombstones and the cursor, committed without waiting for fsync). On a screen that transaction ran on the UI
thread's event loop, the loop that also reads the websocket and paints; here it runs on a single worker thread
while the loop goes on reading frames (which queue up into the next batch) and painting. SQLite in WAL mode lets
the UI thread's read snapshots (ticket listings) run meanwhile; they see the last committed batch, and the engine
announces a batch's orders only once its commit has returned to the loop.

One thread, one connection of its own, one job at a time: batches are committed in the order they were handed over,
and the engine awaits each before it handles the next, so the catch-up cursor, tombstones and whole-commit groups
keep the order they had on the loop. Taps (`LocalStore.deferred_sync`) stay on the loop; SQLite serialises
them with this writer's transactions (`BEGIN IMMEDIATE`, busy timeout). `inline=True` runs the same transactions
on the caller's thread instead (a comparison in `bench/consumer_vs_official.py`, and where no thread is wanted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from .db import REFETCHABLE
from .store import LocalStore

T = TypeVar("T")


class StoreWriter:
    def __init__(self, store: LocalStore, *, inline: bool = False) -> None:
        self.store = store
        self.inline = inline
        # Threads start lazily, at the first write: an engine that is built but never started runs none.
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sa.Connection | None = None  # used by one thread at a time: the worker's (or the caller's)
        self._closed = False

    async def write(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(conn)` inside one refetchable transaction, committed before this returns; rolled back (and the
        exception raised here) if it raises. If the caller is cancelled, a write already started still commits
        whole: it is one transaction either way."""
        if self._closed:
            raise RuntimeError("the store writer is closed")
        if self.inline:
            return self._transaction(work)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kds-store-writer")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, work)

    def _transaction(self, work: Callable[[sa.Connection], T]) -> T:
        if self._conn is None:
            # Kept open: checking a connection out of the pool and back per batch cost as much as the batch's rows.
            self._conn = self.store.engine.connect().execution_options(**{REFETCHABLE: True})
        try:
            with self._conn.begin():
                return work(self._conn)
        except BaseException:
            # A failed write (a disk error, a bug) may leave the connection unusable: the next one opens afresh.
            self._close_conn()
            raise

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def aclose(self) -> None:
        """After the write in flight (if any) has committed: the connection closed on its own thread, and the thread
        ended. The loop is not blocked meanwhile."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            self._close_conn()
            return
        try:
            # Queued behind the write in flight: one thread runs jobs in order. Shielded: a stop that is itself
            # cancelled must still not leave the thread running (the shutdown below waits for it).
            await asyncio.shield(asyncio.get_running_loop().run_in_executor(executor, self._close_conn))
        finally:
            executor.shutdown(wait=True)
