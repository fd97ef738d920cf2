"""Capped exponential backoff with full jitter (AWS "Exponential Backoff And Jitter"): the project's one.

Full jitter spreads a kitchen's screens apart after the server comes back, so they do not reconnect in lockstep
(the reconnection storms Supabase's docs warn about). The RNG is injectable so tests get the same delays every run.
A lone retrier with no crowd to spread (the catch-up machine, the companion's PostgreSQL listener) takes
`jitter=False`: the ceiling itself; a retrier that keeps its count elsewhere (the backup printer's jobs, in the
database) asks `doubling` for the bound. Here, below the engine and the companion, because both retry.
"""

from __future__ import annotations

import random

__all__ = ["Backoff", "doubling"]


def doubling(base_s: float, cap_s: float, attempt: int) -> float:
    """`base_s * 2**attempt`, at most `cap_s`: the bound of the delay after `attempt` failures in a row."""
    # min() before the power would overflow for a long outage (2**1100 is a float overflow).
    return min(cap_s, base_s * 2.0 ** min(max(attempt, 0), 63))


class Backoff:
    """Delays for consecutive failures: uniform in [0, min(cap, base * 2**attempt)], never below `floor_s`;
    without `jitter`, the bound itself."""

    def __init__(
        self,
        base_s: float = 1.0,
        cap_s: float = 30.0,
        *,
        floor_s: float = 0.0,
        jitter: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if base_s <= 0 or cap_s < base_s or floor_s < 0:
            raise ValueError("need 0 < base_s <= cap_s and floor_s >= 0")
        self.base_s = base_s
        self.cap_s = cap_s
        self.floor_s = floor_s
        self.jitter = jitter
        self._rng = rng or random.Random()
        self.attempt = 0

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        return doubling(self.base_s, self.cap_s, self.attempt)

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = self.ceiling()
        delay = max(self.floor_s, self._rng.uniform(0.0, ceiling) if self.jitter else ceiling)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """After a success: the next failure starts from the smallest delay again."""
        self.attempt = 0
