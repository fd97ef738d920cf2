"""The companion's one token bucket, sans-I/O (the time is passed in), and a bucket per key.

Every limit the companion holds a client to is one: requests per token and sign-ins per IP (`ratelimit`), a
realtime socket's messages, a restaurant's joins and bytes (`realtime.quotas`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Buckets", "TokenBucket"]

K = TypeVar("K", bound=Hashable)


class TokenBucket:
    """`rate` per second with bursts of `burst`; starts full."""

    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), now

    def _refill(self, now: float) -> None:
        # max(): a clock read on another thread may be a hair behind the last one seen.
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)

    def take(self, now: float) -> bool:
        """One now, if there is one."""
        self._refill(now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def spend(self, amount: float, now: float) -> float:
        """Take `amount` even past what is left: the seconds until the bucket is back to empty (0 if within it)."""
        self._refill(now)
        self.tokens -= amount
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def wait_s(self, amount: float = 1.0) -> float:
        """Seconds after the last `take`/`spend` until `amount` is there (0 if it is)."""
        return max(0.0, amount - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        return self.tokens + max(0.0, now - self.at) * self.rate >= self.burst


class Buckets(Generic[K]):
    """A full bucket for each key on its first use. Memory is bounded: past `max_keys` keys, the full ones (idle
    long enough to have refilled, so forgetting them changes no answer) are forgotten."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[K, TokenBucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def get(self, key: K, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full(now)}
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        return bucket
