"""The screen's own printer at work: it watches the connection state and, once `decision` says the kitchen is on
paper, renders each new open ticket (api_client/escpos, the companion's layout, "OFFLINE COPY" at the foot) and
sends it to the printer's TCP port. Everything runs on the event loop without waiting on the printer in the UI's
path: a printer that is off is retried with backoff, and a slip stays queued until it went out (never lost). A
ticket is recorded printed (`printed`) only once its bytes were taken, then never printed again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from api_client.backoff import Backoff
from api_client.escpos import transport
from api_client.escpos.slip import render_offline_copy, slip_from_order
from sync import ConnectionState, Observable, SyncEngine

from ..viewmodel.ticket_model import ticket_key
from .decision import OfflineClock, to_print
from .printed import PrintedTickets

log = logging.getLogger(__name__)

EXPO_SLIP = "expo"
"""The name at the top of a whole order's slip (an expo screen's ticket has no station)."""


class OwnPrinter:
    """`stations`: what the screen lists (None: expo's whole orders), asked at each look."""

    def __init__(
        self,
        engine: SyncEngine,
        stations: Callable[[], Sequence[str | None]],
        address: tuple[str, int],
        *,
        after_s: float,
        path: Path,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
    ) -> None:
        self.engine = engine
        self.host, self.port = address
        self._stations = stations
        self._monotonic = monotonic
        self._wall = wall
        self._backoff = backoff or Backoff(1.0, 30.0)
        self._clock = OfflineClock(after_s, engine.connection_state.value, monotonic())
        self._printed = PrintedTickets(path, wall())
        self._pending: dict[str, tuple[bytes, list[str]]] = {}  # key -> (its slip's bytes, its items), in order
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.printed_items: Observable[frozenset[UUID]] = Observable(self._printed.items())
        self.looks: Observable[int] = Observable(0)
        """How many times it looked for tickets to print while on paper (a test awaits one that found none)."""
        self.failures: Observable[int] = Observable(0)
        """Sends the printer did not take (off, unplugged, out of reach): each retried after a backoff."""

    @property
    def waiting(self) -> int:
        """Slips queued that the printer has not taken yet."""
        return len(self._pending)

    def start(self) -> None:
        self._unsubscribe = [
            self.engine.connection_state.subscribe(self._on_state),
            self.engine.on_changes(lambda _ids: self._wake.set()),
        ]
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop; a slip not yet taken by the printer stays unrecorded, so it prints after the next start."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_state(self, state: ConnectionState) -> None:
        self._clock.note(state, self._monotonic())
        self._wake.set()

    async def _run(self) -> None:
        on_paper = False
        while True:
            self._wake.clear()
            now = self._monotonic()
            if self._clock.on_paper(now) != on_paper:
                on_paper = not on_paper
                log.warning("own printer: %s", "no server reached: on paper" if on_paper else "a server is back")
            if on_paper:
                await self._queue_new()
                self.looks.set(self.looks.value + 1)
            if self._pending:
                if not await self._send_next():
                    await asyncio.sleep(self._backoff.next_delay())
                continue
            due = self._clock.due_at()
            await self._wait(due - now if due is not None and now < due else None)

    async def _wait(self, timeout_s: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout_s)

    def _tickets(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (ticket_key(order.id, station), slip_from_order(station or EXPO_SLIP, order))
            for station in self._stations()
            for order in self.engine.open_tickets(station)
        ]

    async def _queue_new(self) -> None:
        for key, slip in to_print(self._tickets(), self._printed.keys() | self._pending.keys()):
            at = datetime.fromtimestamp(self._wall(), UTC)
            # In a thread: the first render imports python-escpos (about a second), never on the UI's loop.
            data = await asyncio.to_thread(render_offline_copy, slip, at=at)
            self._pending[key] = (data, [line["id"] for line in slip["items"] if not line["voided"]])

    async def _send_next(self) -> bool:
        key, (data, items) = next(iter(self._pending.items()))
        try:
            await transport.send(self.host, self.port, data)
        except transport.NotSent as exc:
            log.warning("own printer: ticket %s not printed, trying again: %s", key, exc)
            self.failures.set(self.failures.value + 1)
            return False
        except transport.MaybeSent as exc:
            # Part of it may be on paper: a second copy is better than a ticket the cook never sees.
            log.warning("own printer: ticket %s may have printed in part, printing it again: %s", key, exc)
            self.failures.set(self.failures.value + 1)
            return False
        self._printed.add(key, items, self._wall())
        del self._pending[key]
        self._backoff.reset()
        log.info("own printer: ticket %s printed", key)
        self.printed_items.set(self._printed.items())
        return True
