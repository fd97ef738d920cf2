"""Refusals that arrive after the answer: a kitchen hub applied a tap at once, and its upstream refused it later.

The hub rolls the tap back on every screen and keeps the refusal for the device that made it
(`api_client.late_rejection`). This screen asks for its own when its channel says `late_rejection`, whenever it
is live again, and at the safety interval; each one becomes a rejected outbox entry with upstream's reason, shown
like any other refusal until the cook dismisses it. The last one recorded is kept in the store (`meta`), so a
restart neither misses one nor shows one twice. A server without the function (Supabase: 404) is not asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from api_client.errors import ApiError
from api_client.late_rejection import PAGE, LateRejection
from api_client.models import Intent
from sync.store import LocalStore, meta, outbox_rows

from .intent_log import log_rejection

log = logging.getLogger(__name__)

FIRST_LOOK_BACK = timedelta(minutes=30)
"""A store that never asked before (a new screen, a re-pointed one) shows only refusals this recent."""


class LateRejectionSource(Protocol):
    async def late_rejections(self, after: int) -> list[LateRejection]: ...


class LateRejections:
    def __init__(
        self,
        store: LocalStore,
        source: LateRejectionSource,
        interval_s: float,
        on_recorded: Callable[[list[Intent]], object],
    ) -> None:
        self.store, self.source, self.interval_s = store, source, interval_s
        self.on_recorded = on_recorded
        self.recorded = 0
        """How many were recorded since start (part of the engine's `rejections_generation`)."""
        self.supported = True
        self._want = asyncio.Event()

    def want(self) -> None:
        self._want.set()

    async def run(self) -> None:
        while self.supported:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._want.wait(), self.interval_s)
            self._want.clear()
            try:
                await self.fetch()
            except ApiError as exc:
                if exc.status == 404:
                    self.supported = False  # no hub in front: nothing will ever be refused late
                    return
                log.warning("asking for late rejections failed: %s", exc)
            except Exception as exc:
                # Offline, a timeout: the next hint, reconnection or interval asks again from the same place.
                log.info("asking for late rejections failed: %s: %s", type(exc).__name__, exc)

    async def fetch(self) -> list[Intent]:
        """Every late rejection after the stored mark, recorded page by page; returns the intents recorded."""
        recorded: list[Intent] = []
        while True:
            with self.store.snapshot() as conn:
                mark = meta.get(conn, meta.LATE_REJECTION_SEQ)
            page = await self.source.late_rejections(int(mark) if mark is not None else 0)
            if not page:
                break
            since = None if mark is not None else datetime.fromtimestamp(self.store.clock(), UTC) - FIRST_LOOK_BACK
            shown = [r for r in page if since is None or r.rejected_at >= since]
            with self.store.transaction() as conn:
                for rejection in shown:
                    outbox_rows.append_rejected(conn, rejection.intent, rejection.reason, self.store.clock())
                meta.put(conn, meta.LATE_REJECTION_SEQ, str(max(r.seq for r in page)))
            recorded += [r.intent for r in shown]
            for rejection in shown:
                log_rejection(log, self.store, rejection.intent, rejection.reason, late=True)
            if len(page) < PAGE:
                break
        if recorded:
            self.recorded += len(recorded)
            self.on_recorded(recorded)
        return recorded
