from __future__ import annotations

import random

import pytest

from api_client.backoff import Backoff, doubling


def test_delays_are_full_jitter_under_a_doubling_cap() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(7))
    ceilings = []
    for _ in range(6):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling
        ceilings.append(ceiling)
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_seeded_rng_repeats_and_reset_starts_over() -> None:
    a = Backoff(1.0, 30.0, rng=random.Random(3))
    b = Backoff(1.0, 30.0, rng=random.Random(3))
    assert [a.next_delay() for _ in range(5)] == [b.next_delay() for _ in range(5)]
    a.reset()
    assert a.ceiling() == 1.0


def test_jitter_actually_spreads_delays() -> None:
    backoff = Backoff(1.0, 1.0, rng=random.Random(1))
    assert len({round(backoff.next_delay(), 6) for _ in range(20)}) > 10


def test_floor_and_a_very_long_outage() -> None:
    backoff = Backoff(1.0, 30.0, floor_s=0.5, rng=random.Random(0))
    for _ in range(5000):  # no float overflow after thousands of failures
        assert 0.5 <= backoff.next_delay() <= 30.0


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def test_without_jitter_the_delay_is_the_doubling_bound_itself() -> None:
    backoff = Backoff(0.1, 0.5, floor_s=0.15, jitter=False)
    assert [backoff.next_delay() for _ in range(5)] == pytest.approx([0.15, 0.2, 0.4, 0.5, 0.5])
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.15)


def test_the_bound_of_a_count_kept_elsewhere_never_overflows() -> None:
    # The backup printer's attempts live in its jobs table: 1,100 of them is seventeen hours at a 60 s cap.
    assert [doubling(1.0, 60.0, n) for n in (0, 1, 5, 6, 1100)] == [1.0, 2.0, 32.0, 60.0, 60.0]
