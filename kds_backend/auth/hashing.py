"""Password hashing off the event loop, on threads of its own, with bounded concurrency and a bounded queue.

scrypt costs 0.1 to 0.5 s of CPU per sign-in by design. Run on the default executor (as `asyncio.to_thread`
does) a spray of sign-ins took every worker thread that database reads also wait on, and queued without end.
Here at most `workers` hashes run at once on a pool that nothing else uses, at most `queue` more wait, and
beyond that a sign-in is refused at once (`HashingBusy`, answered 429) instead of queueing behind the spray.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class HashingBusy(Exception):
    """Too many password checks running and waiting: try again shortly."""


class HashPool:
    def __init__(self, workers: int, queue: int) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a hash pool needs at least one worker and a queue of zero or more")
        self.workers, self.queue = workers, queue
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()  # the companion may run in a thread of its own (the embedded default)
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the pool; `HashingBusy` at once if `workers + queue` calls are already in."""
        with self._lock:
            if self._in_flight >= self.workers + self.queue:
                raise HashingBusy
            self._in_flight += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="kds-password-hash")
            executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args))
        finally:
            with self._lock:
                self._in_flight -= 1


HASHING = HashPool(workers=max(1, (os.cpu_count() or 2) // 2), queue=32)
"""Half the machine's cores hash at most (one on the 2-core PCs behind kitchen screens): sign-ins are rare, and
the rest of the server must keep answering while someone sprays passwords."""
