"""coalesce: a burst is one update, at most one per interval, nothing lost."""

from __future__ import annotations

import pytest

from sync.readpath.coalesce import Coalescer

from .rows import uid


def test_a_burst_is_one_flush() -> None:
    c = Coalescer(interval_s=0.1)
    assert c.next_flush_at() is None
    assert c.flush(0.0) == frozenset()
    c.add([uid(1), uid(2)])
    c.add([uid(2), uid(3)])
    assert c.next_flush_at() == 0.0
    assert c.flush(1.0) == {uid(1), uid(2), uid(3)}
    assert not c.pending


def test_flushes_are_at_least_an_interval_apart_and_nothing_is_lost() -> None:
    c = Coalescer(interval_s=0.1)
    c.add([uid(1)])
    assert c.flush(1.0) == {uid(1)}
    c.add([uid(2)])
    assert c.next_flush_at() == pytest.approx(1.1)
    assert c.flush(1.05) == frozenset()
    c.add([uid(3)])
    assert c.flush(1.1) == {uid(2), uid(3)}
    assert c.flush(5.0) == frozenset()


def test_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        Coalescer(-1)
