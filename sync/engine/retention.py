"""The engine's retention duty: now and then, drop finished orders older than the configured age.

Runs on the engine's loop (which a screen shares with its UI), so the work is cut into small transactions
with a yield between them; a store of months shrinks without a visible pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from sync.realtime.observable import Observable
from sync.store import LocalStore, read_rows
from sync.store.retention import compact_batch

log = logging.getLogger(__name__)

MIN_DAYS = 1.0  # today's finished orders feed the recall drawer and today's prep-time figures


def check_retention(days: float, every_s: float) -> None:
    if days < MIN_DAYS:
        raise ValueError(f"retention_days must be at least {MIN_DAYS:g}, not {days:g}")
    if every_s <= 0:
        raise ValueError(f"retention_check_s must be positive, not {every_s:g}")


class Retention:
    def __init__(self, store: LocalStore, days: float, every_s: float, first_after_s: float = 0.0) -> None:
        check_retention(days, every_s)
        self.store = store
        self.days = days
        self.every_s = every_s
        self.first_after_s = first_after_s
        self.compacted: Observable[int] = Observable(0)  # orders dropped since start
        self.rounds: Observable[int] = Observable(0)  # compaction rounds finished since start

    async def compact(self) -> int:
        """Drop every finished order older than the retention age; returns how many."""
        cutoff = datetime.fromtimestamp(self.store.clock() - self.days * 86400, UTC)
        started = time.monotonic()
        total = 0
        while True:
            with self.store.transaction() as conn:
                gone = compact_batch(conn, cutoff)
            total += gone
            if gone == 0:
                break
            await asyncio.sleep(0)  # let the UI paint between batches
        with self.store.transaction() as conn:
            # A stale copy of a deleted row travels for seconds (a late push, a replayed frame), not days.
            read_rows.prune_tombstones(conn, cutoff.timestamp())
        log.info(
            "retention: dropped %d finished order%s older than %g days", total, "" if total == 1 else "s", self.days,
            extra={"event": "retention", "dropped": total, "days": self.days,
                   "took_s": round(time.monotonic() - started, 3)},
        )
        if total:
            self.compacted.set(self.compacted.value + total)
        self.rounds.set(self.rounds.value + 1)
        return total

    async def run(self) -> None:
        # Not at once: a screen that starts (or restarts mid-service) has its first tickets to show.
        await asyncio.sleep(self.first_after_s)
        while True:
            try:
                await self.compact()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention round failed; the next one tries again")
            await asyncio.sleep(self.every_s)
