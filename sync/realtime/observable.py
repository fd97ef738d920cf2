"""A value others can watch: callbacks on change, and `await wait_for(...)` for tests and supervisors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from api_client.listeners import Listeners

T = TypeVar("T")


class Observable(Generic[T]):
    def __init__(self, value: T) -> None:
        self._value = value
        # A broken observer must not stop the others, nor the connection that is reporting.
        self._callbacks: Listeners[T] = Listeners("state observer")
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def value(self) -> T:
        return self._value

    def set(self, value: T) -> None:
        if value == self._value:
            return
        self._value = value
        self._callbacks.notify(value)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def subscribe(self, callback: Callable[[T], object]) -> Callable[[], None]:
        """Call `callback(value)` on every change; returns the function that unsubscribes."""
        return self._callbacks.add(callback)

    async def wait_for(self, condition: T | Callable[[T], bool]) -> T:
        """Until the value equals `condition` (or `condition(value)` is true); combine with a timeout."""
        test = condition if callable(condition) else (lambda v: v == condition)
        while not test(self._value):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        return self._value
