"""The in-process feed of committed row changes, which the realtime server fans out to subscribers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .db.writer import RowChange

log = logging.getLogger(__name__)

Listener = Callable[[list[RowChange]], None]


class ChangeHub:
    """Listeners get each committed transaction's changes, in commit order, on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish_threadsafe(self, batch: list[RowChange]) -> None:
        """Hand a committed batch to the loop. FIFO: batches arrive in the order they were handed over."""
        if not batch:
            return
        if self.loop is None or self.loop.is_closed():
            self._deliver(batch)
        else:
            self.loop.call_soon_threadsafe(self._deliver, batch)

    def _deliver(self, batch: list[RowChange]) -> None:
        for listener in list(self._listeners):
            try:
                listener(batch)
            except Exception:
                # One broken listener must never stop the others or the writer.
                log.exception("change listener failed")
