"""One knob for slow machines: `KDS_TEST_TIMEOUT_FACTOR` (default 1) multiplies every deadline the suite allows: a
condition's wait (`TIMEOUT_S`), a server's start, pytest-timeout's limit per test. Waits are for conditions, never
fixed sleeps, so a longer deadline costs nothing when all is well: it only decides how long a broken run takes to
say so. Factors below 1 are refused (they would turn a slow machine's pass into a failure)."""

from __future__ import annotations

import os


def _factor() -> float:
    raw = os.environ.get("KDS_TEST_TIMEOUT_FACTOR", "").strip() or "1"
    try:
        factor = float(raw)
    except ValueError:
        factor = float("nan")
    if not 1 <= factor <= 100:
        raise ValueError(f"KDS_TEST_TIMEOUT_FACTOR must be a number from 1 to 100 (got {raw!r})")
    return factor


FACTOR = _factor()


def scaled(seconds: float) -> float:
    return seconds * FACTOR
