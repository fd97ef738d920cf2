"""The companion's one token bucket (requests, sign-ins, realtime messages, joins, bytes) and a bucket per key."""

from __future__ import annotations

import pytest

from kds_backend.token_bucket import Buckets, TokenBucket


def test_a_bucket_starts_full_then_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_s() == pytest.approx(0.5)  # one whole token at 2 a second
    assert not bucket.take(0.49) and bucket.take(0.5)
    assert not bucket.full(1.0) and bucket.full(2.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # never more than the burst


def test_a_clock_a_hair_behind_gives_nothing_back() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=10.0)
    assert bucket.take(10.0)
    assert not bucket.take(9.5)  # read on another thread a moment earlier: no refill, no credit
    assert not bucket.take(10.9) and bucket.take(11.0)


def test_spend_goes_past_empty_and_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=10.0, burst=10, now=0.0)
    assert bucket.spend(25, 0.0) == pytest.approx(1.5)
    assert not bucket.take(1.0) and bucket.wait_s() == pytest.approx(0.6)


def test_each_key_has_its_own_bucket_and_idle_full_ones_are_forgotten() -> None:
    buckets: Buckets[str] = Buckets(rate=1.0, burst=1, max_keys=2)
    assert buckets.get("a", 0.0).take(0.0) and not buckets.get("a", 0.0).take(0.0)
    assert buckets.get("b", 0.0).take(0.0)  # a's use costs b nothing
    assert buckets.get("b", 0.0) is buckets.get("b", 0.5)
    buckets.get("c", 0.5)  # at the bound, nothing is full yet: all three kept
    assert len(buckets) == 3 and not buckets.get("a", 0.5).take(0.5)
    buckets.get("d", 5.0)  # now a, b and c have refilled: forgetting them changes no answer
    assert len(buckets) == 1
