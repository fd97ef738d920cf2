"""Per-token rate limiting: a token bucket per caller, answered with 429 and `Retry-After`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .token_bucket import Buckets


class RateLimiter:
    """Token buckets keyed by caller. Thread-safe; memory is bounded by forgetting idle full buckets."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate_per_s
        self.burst = float(burst)
        self.clock = clock
        self._buckets: Buckets[str] = Buckets(rate_per_s, burst, max_keys)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float | None:
        """Take one request from `key`'s bucket: None if allowed, else seconds until it would be."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key, now)
            return None if bucket.take(now) else bucket.wait_s()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
