"""A list of callbacks that each get every value: the one listener registry of the engine and the companion.

Whoever notifies has already done its work (a tap committed, a transaction published, a state changed), so a
callback that raises is logged and the others still get the value: one broken observer must not make the caller
think its work failed, nor starve the observers after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Listeners"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Listeners(Generic[T]):
    """`add(callback)` returns the function that removes it again (harmless to call twice); `notify(value)` calls
    each callback added before it, in the order they were added."""

    def __init__(self, name: str = "listener") -> None:
        self.name = name  # says whose callback failed in the log: "change listener", "outbox listener"
        self._callbacks: list[Callable[[T], object]] = []

    def __len__(self) -> int:
        return len(self._callbacks)

    def add(self, callback: Callable[[T], object]) -> Callable[[], None]:
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    def notify(self, value: T) -> None:
        for callback in list(self._callbacks):  # a callback may remove itself or add another
            try:
                callback(value)
            except Exception:
                log.exception("%s %r failed", self.name, callback)
