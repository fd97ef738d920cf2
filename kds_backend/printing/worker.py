"""The backup printer worker, owned by the app's lifespan.

Each tick it reads the printers, their cursors and the change counter. A station with a screen online has its
cursor moved to what the counter was a heartbeat timeout ago (a screen whose cable was pulled stays "online" until
Realtime notices the silence, and may have missed what committed meanwhile; those changes then print). A station
with no screen online for `KDS_BACKUP_PRINT_AFTER` seconds has its changes since the cursor queued as print jobs
(jobs.queue_jobs), and each printer gets its oldest job, one at a time, retried with backoff while unreachable.

After a restart nobody is online yet: the wait starts again from the start, so screens that reconnect in time keep
their station off paper. Several companions on one PostgreSQL each see only their own sockets' presence: one that
sees a station's screen writes so every few seconds (`print_cursors.screen_seen_at`), and the others count the
station dark only once that is older than the wait; a job is sent by one of them at a time (its lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api_client.backoff import doubling
from api_client.escpos import transport
from api_client.escpos.slip import render

from ..db.database import Database
from . import jobs
from .jobs import Job, Printer, StationKey

log = logging.getLogger(__name__)

TICK_S = 0.5
CLOSE_WAIT_S = 2.0
SEEN_EVERY_S = 5.0
"""How often a companion that sees a station's screen online writes so (`print_cursors.screen_seen_at`)."""
LEASE_S = transport.CONNECT_TIMEOUT_S + 2 * transport.SEND_TIMEOUT_S + 5.0
"""How long a sender holds a job: longer than a send can take. After a crash mid-send the job waits this long."""


@dataclass
class StationStatus:
    screen_online: bool = False
    printing: bool = False
    """No screen for `after_s`: new and changed tickets print."""
    last_error: str | None = None
    through_seq: int | None = None
    """The station's cursor: changes up to this change_seq are on its screens or queued to print."""


@dataclass
class BackupPrinting:
    db: Database
    online: Callable[[], set[StationKey]]
    after_s: float
    retry_max_s: float
    lag_s: float
    """How long a screen may be gone before presence says so (the Realtime heartbeat timeout and a tick)."""
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    """The time written as `screen_seen_at` and compared with other companions' (theirs is wall-clock time)."""
    started: float = field(default=0.0)
    last_online: dict[StationKey, float] = field(default_factory=dict)
    status: dict[StationKey, StationStatus] = field(default_factory=dict)
    _samples: deque[tuple[float, int]] = field(default_factory=deque)
    _sending: dict[StationKey, asyncio.Task[None]] = field(default_factory=dict)
    _seen_written: dict[StationKey, tuple[float, datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = self.clock()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("backup printing: tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)

    async def tick(self) -> None:
        snap = await self.db.aread(jobs.snapshot)
        now = self.clock()
        self._samples.append((now, snap.counter))
        while len(self._samples) > 1 and self._samples[1][0] <= now - self.lag_s:
            self._samples.popleft()  # keep the newest sample at least lag_s old, and everything after it
        online = self.online()
        wall = self.wall()
        seen: dict[StationKey, int] = {}
        mark: list[StationKey] = []
        queue: list[StationKey] = []
        for printer in snap.printers:
            key = printer.key
            state = self.status.setdefault(key, StationStatus())
            cursor = state.through_seq = snap.cursors.get(key)
            if key in online:
                self.last_online[key] = now
                state.screen_online, state.printing = True, False
                old_time, old_counter = self._samples[0]
                if old_time <= now - self.lag_s and (cursor is None or old_counter > cursor):
                    seen[key] = old_counter
                written = self._seen_written.get(key)
                if written is None or now - written[0] >= SEEN_EVERY_S:
                    mark.append(key)
                continue
            state.screen_online = False
            state.printing = now - self.last_online.get(key, self.started) >= self.after_s and self._dark_elsewhere(
                key, snap.screen_seen.get(key), wall
            )
            if state.printing and (cursor is None or snap.counter > cursor):
                queue.append(key)
        if mark:
            self._seen_written.update((key, (now, wall)) for key in mark)
        if (seen or queue or mark) and await self.db.awrite(lambda w: self._advance(w, seen, queue, mark, wall)):
            snap = await self.db.aread(jobs.snapshot)  # send what was just queued now, not a tick later
        for printer in snap.printers:
            job = snap.next_jobs.get(printer.key)
            task = self._sending.get(printer.key)
            if job is None or (task is not None and not task.done()):
                continue
            if job.next_attempt_at > datetime.now(UTC):
                continue
            self._sending[printer.key] = asyncio.create_task(self._send(printer, job))

    def _dark_elsewhere(self, key: StationKey, seen_at: datetime | None, wall: datetime) -> bool:
        """No other companion on this database has seen a screen of the station lately. What this one wrote
        itself does not count: its own view (`last_online`) is exact."""
        if seen_at is None:
            return True
        written = self._seen_written.get(key)
        if written is not None and written[1] == seen_at:
            return True
        return (wall - seen_at).total_seconds() >= self.after_s + SEEN_EVERY_S + TICK_S

    def _advance(
        self, w: Any, seen: dict[StationKey, int], queue: list[StationKey], mark: list[StationKey], wall: datetime
    ) -> int:
        """Move the cursors of stations with screens and say they were seen; queue jobs for those without. How
        many jobs were queued."""
        for key, through in seen.items():
            jobs.set_cursor(w, key, through)
        for key in mark:
            jobs.mark_seen(w, key, wall)
        total = 0
        for key in queue:
            queued = jobs.queue_jobs(w, key)
            if queued:
                log.info("backup printing: %d ticket(s) queued for %s/%s (no screen online)", queued, *key)
            total += queued
        return total

    async def _send(self, printer: Printer, job: Job) -> None:
        state = self.status.setdefault(printer.key, StationStatus())
        claimed, before = await self.db.awrite(lambda w: jobs.claim(w, job.id, LEASE_S))
        if not claimed:
            return  # another companion on this database is sending it
        reprint = before is not None
        # In a thread: the first render imports python-escpos, which must not stall the event loop.
        data = await asyncio.to_thread(
            render, job.slip, job.id, changed=job.changed, reprint=reprint, at=datetime.now(UTC)
        )
        try:
            await transport.send(printer.host, printer.port, data)
        except (transport.NotSent, transport.MaybeSent) as exc:
            retry_in = doubling(1.0, self.retry_max_s, job.attempts)
            maybe = isinstance(exc, transport.MaybeSent)
            if state.last_error is None:
                log.warning("backup printing: job %d for %s/%s not printed: %s; retrying", job.id, *printer.key, exc)
            error = state.last_error = str(exc)
            await self.db.awrite(lambda w: jobs.failed(w, job.id, error, retry_in, maybe_sent=maybe, sending_at=before))
            return
        await self.db.awrite(lambda w: jobs.mark_printed(w, job))
        if state.last_error is not None:
            log.info("backup printing: %s/%s printer reachable again", *printer.key)
        state.last_error = None

    async def close(self) -> None:
        """Let sends under way finish for a moment (a cancelled one may leave a claimed job: a REPRINT later)."""
        tasks = [t for t in self._sending.values() if not t.done()]
        if tasks:
            _done, stuck = await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
            for task in stuck:
                task.cancel()
            if stuck:
                await asyncio.wait(stuck, timeout=CLOSE_WAIT_S)


@asynccontextmanager
async def backup_printing(app: Any) -> AsyncIterator[None]:
    """Run the backup printer for the app's lifespan (not on a hub: its rows are upstream's copy)."""
    settings = app.state.settings
    if settings.upstream is not None:
        app.state.backup_printing = None
        yield
        return
    from .presence import stations_online

    service = app.state.realtime
    printing = BackupPrinting(
        app.state.db,
        lambda: stations_online(service),
        after_s=settings.backup_print_after_s,
        retry_max_s=settings.backup_print_retry_max_s,
        lag_s=service.config.heartbeat_timeout_s + service.config.tick_s,
    )
    app.state.backup_printing = printing
    stop = asyncio.Event()
    task = asyncio.create_task(printing.run(stop))
    try:
        yield
    finally:
        # The tick under way ends on its own (cancelling it inside a database write would only leave the write
        # queue settling a cancelled future); then the sends.
        stop.set()
        _done, stuck = await asyncio.wait({task}, timeout=CLOSE_WAIT_S)
        for pending in stuck:
            pending.cancel()
        await printing.close()
