"""Per-token request limits: a burst, then one request per 1/rate seconds, answered with how long to wait."""

from __future__ import annotations

import threading

import pytest

from kds_backend.ratelimit import RateLimiter, retry_after_header


def test_a_caller_gets_its_burst_then_waits_and_others_are_not_held_up() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=4.0, burst=2, clock=lambda: now[0])
    assert limiter.acquire("t1") is None and limiter.acquire("t1") is None
    assert limiter.acquire("t1") == pytest.approx(0.25)
    assert limiter.acquire("t2") is None
    now[0] = 0.2
    assert limiter.acquire("t1") == pytest.approx(0.05)
    now[0] = 0.25
    assert limiter.acquire("t1") is None


def test_memory_stays_bounded_by_forgetting_idle_callers() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=lambda: now[0], max_keys=100)
    for n in range(100):
        limiter.acquire(f"t{n}")
    now[0] = 5.0  # every bucket has refilled
    limiter.acquire("late")
    assert len(limiter._buckets) == 1


def test_threads_share_one_allowance() -> None:
    limiter = RateLimiter(rate_per_s=0.001, burst=500, clock=lambda: 0.0)
    allowed: list[bool] = []

    def hammer() -> None:
        allowed.extend(limiter.acquire("t") is None for _ in range(200))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 500


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_impossible_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(rate, burst)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after_header(s) for s in (0.0, 0.01, 1.0, 1.2)] == ["1", "1", "1", "2"]
