"""The in-process feed of committed row changes, which the realtime server fans out to subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from api_client.listeners import Listeners

from .db.writer import RowChange

Listener = Callable[[list[RowChange]], None]


class ChangeHub:
    """Listeners get each committed transaction's changes, in commit order, on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        # One broken listener must never stop the others or the writer.
        self._listeners: Listeners[list[RowChange]] = Listeners("change listener")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def publish_threadsafe(self, batch: list[RowChange]) -> None:
        """Hand a committed batch to the loop. FIFO: batches arrive in the order they were handed over."""
        if not batch:
            return
        if self.loop is None or self.loop.is_closed():
            self._listeners.notify(batch)
        else:
            self.loop.call_soon_threadsafe(self._listeners.notify, batch)
