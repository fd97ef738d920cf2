"""End of the kitchen's day: archive the orders still open from before the day-end boundary.

Archiving sets `orders.cleared_at` and nothing else. The order keeps its status (so a report tells an
abandoned order, cleared while `new`/`in_progress`/`ready`, from a served one) and keeps its items and their
done times. Why a column and not a new status: the status is derived from the items by the order state
machine and checked by the SQL constraints on both servers; a separate, server-only marker changes neither,
and older screens simply ignore it (schema v1 ignores unknown fields).

The clear is an ordinary write: each order gets a new version and change_seq, so realtime publishes it and a
screen that was off catches up on it over REST, and drops the ticket like any other change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from uuid import UUID

import sqlalchemy as sa

from api_client.business_day import day_start, next_boundary, zone
from api_client.models import OrderStatus

from .db.database import Database
from .db.tables import orders
from .db.writer import Writer
from .settings import Settings

log = logging.getLogger(__name__)

OPEN_STATUSES = (OrderStatus.new.value, OrderStatus.in_progress.value, OrderStatus.ready.value)
MAX_SLEEP_S = 15 * 60.0
"""Wake at least this often: a monotonic sleep does not count a suspended machine or a wall-clock jump."""
RETRY_S = 60.0
"""After a failed clear (database unavailable), try again this soon rather than waiting a whole day."""


def clear_day(w: Writer, before: datetime, restaurant_id: str | None = None) -> list[UUID]:
    """Archive every order still open that was created before `before`; returns their ids.

    `restaurant_id` None clears every restaurant on this database (the hub's scheduler and CLI do that).
    Idempotent: an order already cleared is left alone.
    """
    if before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    query = sa.select(orders).where(
        orders.c.cleared_at.is_(None),
        orders.c.status.in_(OPEN_STATUSES),
        orders.c.created_at < before,
    )
    if restaurant_id is not None:
        query = query.where(orders.c.restaurant_id == restaurant_id)
    cleared = []
    for row in w.conn.execute(query.order_by(orders.c.change_seq)).mappings().all():
        w.update(orders, dict(row), {"cleared_at": w.now})
        cleared.append(row["id"])
    return cleared


def last_boundary(settings: Settings, now: datetime | None = None) -> datetime:
    """The start of the current kitchen day under `settings` (what "clear the day" clears up to)."""
    return day_start(now or datetime.now(UTC), settings.day_end_hour, zone(settings.timezone))


class DayEndScheduler:
    """Clears at every boundary; on start, first clears what was left from before the last one (a hub that
    was off at 04:00 still clears when it comes back). The clock and sleep are injected for tests."""

    def __init__(
        self,
        clear: Callable[[datetime], Awaitable[int]],
        hour: int,
        tz: tzinfo,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._clear = clear
        self._hour = hour
        self._tz = tz
        self._now = now
        self._sleep = sleep
        self._cleared_up_to: datetime | None = None

    async def step(self) -> float:
        """Clear up to the last boundary if not done yet; return how long to sleep before the next step.

        Only a boundary not cleared yet triggers a clear: an order a POS sends later with an earlier
        created_at (it was offline) is live, and waits for the next day end like any other."""
        current = self._now()
        boundary = day_start(current, self._hour, self._tz)
        if self._cleared_up_to is None or boundary > self._cleared_up_to:
            try:
                count = await self._clear(boundary)
            except Exception:
                log.exception("end-of-day clear failed; retrying in %.0f s", RETRY_S)
                return RETRY_S
            self._cleared_up_to = boundary
            if count:
                log.info("end of day: cleared %d open order(s) from before %s", count, boundary.isoformat())
        wait = (next_boundary(current, self._hour, self._tz) - self._now()).total_seconds()
        return min(max(wait, 0.0), MAX_SLEEP_S)

    async def run(self, wait: float = 0.0) -> None:
        """Sleep `wait`, then step forever (the caller has usually run the first step already)."""
        while True:
            await self._sleep(wait)
            wait = await self.step()


@contextlib.asynccontextmanager
async def day_end_task(db: Database, settings: Settings) -> AsyncIterator[None]:
    """The scheduler as a background task for the app's lifespan (no task when `settings.auto_clear` is off)."""
    if not settings.auto_clear:
        yield
        return

    async def clear(before: datetime) -> int:
        return len(await db.awrite(lambda w: clear_day(w, before)))

    scheduler = DayEndScheduler(clear, settings.day_end_hour, zone(settings.timezone))
    # The catch-up clear runs before the app serves anything: no screen ever sees yesterday's leftovers.
    first_wait = await scheduler.step()
    task = asyncio.create_task(scheduler.run(first_wait), name="day-end-clear")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
