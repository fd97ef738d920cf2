"""Change notifications coalesced: a burst of pushes (a catch-up page, a POS batch) is one UI update.

Pure: ids are collected as they change; `flush(now)` hands them over at most once per interval, and
`next_flush_at()` tells the pump when to call it next.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID


class Coalescer:
    def __init__(self, interval_s: float = 0.1) -> None:
        if interval_s < 0:
            raise ValueError("interval_s must be >= 0")
        self.interval_s = interval_s
        self._pending: set[UUID] = set()
        self._last_flush: float | None = None

    def add(self, ids: Iterable[UUID]) -> None:
        self._pending.update(ids)

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def next_flush_at(self) -> float | None:
        """When a flush would hand something over (None: nothing pending)."""
        if not self._pending:
            return None
        return 0.0 if self._last_flush is None else self._last_flush + self.interval_s

    def flush(self, now: float) -> frozenset[UUID]:
        """The ids changed since the last flush, or nothing if the last flush was under `interval_s` ago."""
        if not self._pending:
            return frozenset()
        if self._last_flush is not None and now < self._last_flush + self.interval_s:
            return frozenset()
        out = frozenset(self._pending)
        self._pending.clear()
        self._last_flush = now
        return out
