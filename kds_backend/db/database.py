"""The database as the routes use it: serialised write transactions that publish what they commit.

Writes queue up and one thread at a time drains the queue (`_drain`). Group commit: the requests that
arrived while a transaction was running are written together in the next one, so many share one commit
(one fsync). Only writes that ask for it are grouped (`awrite(..., group=True)`, `awrite_many`); each
runs in its own savepoint, so one that fails (a conflict, a bad request, a constraint) is rolled back
alone and the others commit. Every caller is answered after the commit that made its write durable. If
the group's transaction itself fails (the database is locked, full or gone), each write is tried again
alone, in its own transaction, and gets its own answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError

from ..changes import ChangeHub
from .writer import Writer, write_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")

_GROUP_ERRORS = (OperationalError, InterfaceError, InternalError)
"""Errors of the database or the connection rather than of one request: the group's transaction is not
trusted after one, and each of its requests is written again alone."""

BatchFn = Callable[[Writer, Sequence[Any]], Sequence[Any]]
"""Writes many requests of one kind together: one outcome per request, in order, either its result or the
exception (an `Exception` instance) that request alone must raise, in which case it must have written
nothing. Raising fails the whole call: each request is then written again alone."""

MAX_GROUP = 256
"""Requests written in one transaction at most (the rest wait for the next one)."""
WRITER_IDLE_S = 30.0
"""The writer thread ends after this long without work (a new one starts with the next write)."""


@dataclass
class _Job:
    future: Future[Any]
    fn: Callable[[Writer], Any] | None = None
    """A write on its own (`write`/`awrite`)."""
    batch: BatchFn | None = None
    request: Any = None
    """A request for `batch` (`awrite_many`): adjacent jobs with the same `batch` go in one call."""
    group: bool = False
    """Whether it may share a transaction with other jobs."""
    done: bool = field(default=False)


def _solo(job: _Job) -> BatchFn:
    fn = job.fn
    assert fn is not None
    return lambda w, _requests: [fn(w)]


def _outcomes(job: _Job, w: Writer, requests: list[Any]) -> list[Any]:
    """Run `job`'s batch function (or its plain write) on `requests`: a batch's exceptions become `_Failed`."""
    if job.batch is None:
        return _solo(job)(w, requests)
    results = list(job.batch(w, requests))
    if len(results) != len(requests):
        raise RuntimeError(f"{job.batch} gave {len(results)} outcomes for {len(requests)} requests")
    return [_Failed(r) if isinstance(r, BaseException) else r for r in results]


class Database:
    def __init__(self, engine: Engine, hub: ChangeHub) -> None:
        self.engine = engine
        self.hub = hub
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._writer: threading.Thread | None = None
        self.groups_committed = 0
        """Transactions committed by the queue (for tests and benchmarks: requests per commit)."""

    # ---------------------------------------------------------------- the API the routes use

    def write(self, fn: Callable[[Writer], T]) -> T:
        """Run `fn` in a write transaction of its own, after the writes queued before it; its result."""
        return self._submit_sync(_Job(Future(), fn=fn))

    def read(self, fn: Callable[[sa.Connection], T]) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn)

    async def awrite(self, fn: Callable[[Writer], T], *, group: bool = False) -> T:
        """`write` from the event loop. With `group`, `fn` may share a transaction (and its commit) with other
        grouped writes, in a savepoint of its own: it must not depend on being alone in the transaction."""
        return await self._submit(_Job(Future(), fn=fn, group=group))

    async def awrite_many(self, batch: BatchFn, request: Any) -> Any:
        """Write `request` with others of the same `batch` function queued next to it, in one call and one
        transaction; the outcome `batch` gave this request (raised if it is an exception)."""
        return await self._submit(_Job(Future(), batch=batch, request=request, group=True))

    async def aread(self, fn: Callable[[sa.Connection], T]) -> T:
        return await asyncio.to_thread(self.read, fn)

    def queue_depth(self) -> int:
        """Writes waiting for the writer thread (not counting the group it is writing)."""
        with self._cond:
            return len(self._queue)

    # ---------------------------------------------------------------- the queue

    def _enqueue(self, job: _Job) -> None:
        with self._cond:
            self._queue.append(job)
            if self._writer is None:
                self._writer = threading.Thread(target=self._drain, name="kds-db-writer", daemon=True)
                self._writer.start()
            self._cond.notify()

    async def _submit(self, job: _Job) -> Any:
        self._enqueue(job)
        return await asyncio.wrap_future(job.future)

    def _submit_sync(self, job: _Job) -> Any:
        self._enqueue(job)
        return job.future.result()

    def _drain(self) -> None:
        """The writer thread: write queued jobs, a group at a time; end after a while with nothing to do."""
        while True:
            with self._cond:
                while not self._queue:
                    if not self._cond.wait(timeout=WRITER_IDLE_S) and not self._queue:
                        self._writer = None  # the next write starts a new thread
                        return
                group = self._take()
            try:
                self._run_group(group)
            except BaseException as exc:  # a bug here must not leave callers waiting for ever
                log.exception("write queue failed")
                for job in group:
                    _settle(job, _Failed(exc))

    def _take(self) -> list[_Job]:
        """The next group: one ungrouped job, or up to MAX_GROUP grouped ones in queue order."""
        first = self._queue[0]
        if not first.group:
            return [self._queue.pop(0)]
        n = 1
        while n < len(self._queue) and n < MAX_GROUP and self._queue[n].group:
            n += 1
        group, self._queue[:n] = self._queue[:n], []
        return group

    # ---------------------------------------------------------------- one group

    def _run_group(self, group: list[_Job]) -> None:
        if len(group) == 1 and not group[0].group:
            self._run_alone(group[0])
            return
        try:
            with write_transaction(self.engine) as w:
                outcomes = self._run_segments(w, group)
        except Exception as exc:
            if len(group) == 1 and not isinstance(exc, _GROUP_ERRORS):
                _settle(group[0], _Failed(exc))  # its own failure, rolled back: what it would have raised alone
                return
            # The transaction failed (the database, a savepoint, or one request of a one-batch group): each
            # request again, in a transaction of its own.
            log.info("group of %d writes failed (%s); writing them one by one", len(group), exc)
            for job in group:
                self._run_alone(job)
            return
        self.groups_committed += 1
        self.hub.publish_threadsafe(w.changes)
        for job, outcome in zip(group, outcomes, strict=True):
            _settle(job, outcome)

    def _run_segments(self, w: Writer, group: list[_Job]) -> list[Any]:
        """Each run of adjacent jobs with the same batch function, in a savepoint of its own (none when the
        group is one run: if it fails, the transaction is rolled back and each job goes alone)."""
        segments: list[list[_Job]] = []
        start = 0
        while start < len(group):
            job = group[start]
            end = start + 1
            if job.batch is not None:
                while end < len(group) and group[end].batch is job.batch:
                    end += 1
            segments.append(group[start:end])
            start = end
        if len(segments) == 1:
            return self._run_segment(w, segments[0], savepoint=False)
        outcomes: list[Any] = []
        for segment in segments:
            try:
                outcomes.extend(self._run_segment(w, segment))
            except _SegmentFailed as failed:
                if len(segment) == 1:
                    outcomes.append(_Failed(failed.error))
                    continue
                # One request of the batch broke it (a constraint, say): each again, alone in a savepoint.
                for one in segment:
                    try:
                        outcomes.extend(self._run_segment(w, [one]))
                    except _SegmentFailed as failed_one:
                        outcomes.append(_Failed(failed_one.error))
        return outcomes

    def _run_segment(self, w: Writer, segment: list[_Job], *, savepoint: bool = True) -> list[Any]:
        """`segment` in a savepoint; `_SegmentFailed` if it raised (and was rolled back). Without a savepoint,
        an exception is raised as it is, to fail the whole transaction."""
        requests = [j.request for j in segment]
        if not savepoint:
            w.now = datetime.now(UTC)
            outcomes = _outcomes(segment[0], w, requests)
            w.flush()
            return outcomes
        mark = w.mark()
        nested = w.conn.begin_nested()
        try:
            w.now = datetime.now(UTC)
            outcomes = _outcomes(segment[0], w, requests)
            w.flush()
        except Exception as exc:
            if isinstance(exc, _GROUP_ERRORS):
                raise  # the connection or the database itself: the whole group goes one by one
            nested.rollback()
            w.rollback_to(mark)
            raise _SegmentFailed(exc) from exc
        nested.commit()
        return outcomes

    def _run_alone(self, job: _Job) -> None:
        """`job` in a transaction of its own: exactly the write path without grouping."""
        try:
            with write_transaction(self.engine) as w:
                (outcome,) = _outcomes(job, w, [job.request])
                if isinstance(outcome, _Failed):
                    raise outcome.error  # roll back whatever it wrote
        except Exception as exc:
            _settle(job, _Failed(exc))
            return
        self.hub.publish_threadsafe(w.changes)
        _settle(job, outcome)


@dataclass(frozen=True)
class _Failed:
    """A job's outcome that its caller must raise (a plain write may return an exception as its value)."""

    error: BaseException


class _SegmentFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _settle(job: _Job, outcome: Any) -> None:
    if job.done:
        return
    job.done = True
    if isinstance(outcome, _Failed):
        job.future.set_exception(outcome.error)
    else:
        job.future.set_result(outcome)
