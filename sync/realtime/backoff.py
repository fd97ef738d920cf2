"""Capped exponential backoff with full jitter (AWS "Exponential Backoff And Jitter").

Full jitter spreads a kitchen's screens apart after the server comes back, so they do not reconnect in lockstep
(the reconnection storms Supabase's docs warn about). The RNG is injectable so tests get the same delays every run.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays for consecutive failures: uniform in [0, min(cap, base * 2**attempt)], never below `floor_s`."""

    def __init__(
        self, base_s: float = 1.0, cap_s: float = 30.0, *, floor_s: float = 0.0, rng: random.Random | None = None
    ) -> None:
        if base_s <= 0 or cap_s < base_s or floor_s < 0:
            raise ValueError("need 0 < base_s <= cap_s and floor_s >= 0")
        self.base_s = base_s
        self.cap_s = cap_s
        self.floor_s = floor_s
        self._rng = rng or random.Random()
        self.attempt = 0

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # min() before the power would overflow for a long outage (2**1100 is a float overflow).
        exponent = min(self.attempt, 63)
        return min(self.cap_s, self.base_s * 2.0**exponent)

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        delay = max(self.floor_s, self._rng.uniform(0.0, self.ceiling()))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """After a success: the next failure starts from the smallest delay again."""
        self.attempt = 0
