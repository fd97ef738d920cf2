"""The staleness watchdog sans I/O: heartbeats, live/down moments and the time in; trips out."""

from __future__ import annotations

import pytest

from sync.realtime.watchdog import Watchdog


def test_silence_on_a_live_connection_trips_once_after_the_limit() -> None:
    dog = Watchdog(10.0)
    dog.live(0.0)
    dog.beat(1.0)
    assert not dog.tick(10.9)  # 9.9 s of silence: fine
    assert dog.stale_since is None
    assert dog.tick(11.0)  # 10 s since the last heartbeat
    assert dog.stale_since == 1.0  # the screen counts from the last heartbeat heard
    assert not dog.tick(50.0)  # once: the caller is already reconnecting


def test_heartbeats_keep_it_quiet() -> None:
    dog = Watchdog(10.0)
    dog.live(0.0)
    for t in range(0, 100, 5):
        dog.beat(float(t))
        assert not dog.tick(t + 4.9)
    assert dog.next_deadline() == 95.0 + 10.0


def test_a_server_without_heartbeats_never_arms_it() -> None:
    """An old companion or a Supabase project without the migration: no reconnect every 10 s for ever."""
    dog = Watchdog(10.0)
    dog.live(0.0)
    assert dog.next_deadline() is None
    assert not any(dog.tick(float(t)) for t in range(0, 3600, 7))
    dog.down()
    dog.live(4000.0)  # a reconnect of any kind changes nothing either
    assert not dog.tick(5000.0)


def test_only_a_live_connection_is_watched() -> None:
    """Down is the offline banner's business, not a stale data path."""
    dog = Watchdog(10.0)
    dog.live(0.0)
    dog.beat(0.0)
    dog.down()
    assert dog.next_deadline() is None
    assert not dog.tick(100.0)
    dog.live(100.0)  # a normal reconnect (no trip): armed again by its first heartbeat, not before
    assert not dog.tick(200.0)
    dog.beat(200.0)
    assert dog.tick(210.0)


def test_after_a_trip_the_next_connection_is_watched_from_live_with_a_growing_wait() -> None:
    """The server did beat, so silence on its replacement is the same fault; a path that stays stuck costs a
    reconnect and a catch-up less and less often, and the stale state stays until a heartbeat."""
    dog = Watchdog(10.0, max_limit_s=40.0)
    dog.live(0.0)
    dog.beat(0.0)
    assert dog.tick(10.0)
    dog.down()
    dog.live(11.0)
    assert not dog.tick(20.9)
    assert dog.tick(21.0)  # 10 s after live
    dog.down()
    dog.live(22.0)
    assert not dog.tick(41.9)
    assert dog.tick(42.0)  # 20 s
    dog.down()
    dog.live(43.0)
    assert dog.tick(83.0)  # 40 s
    dog.down()
    dog.live(84.0)
    assert not dog.tick(123.9)
    assert dog.tick(124.0)  # capped at 40 s
    assert dog.stale_since == 0.0  # still counted from the last heartbeat heard
    dog.down()
    dog.live(125.0)
    dog.beat(126.0)  # the path works again
    assert dog.stale_since is None and dog.trips == 0
    assert not dog.tick(135.9)
    assert dog.tick(136.0)  # back to 10 s


def test_a_bad_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        Watchdog(0.0)
    with pytest.raises(ValueError):
        Watchdog(10.0, max_limit_s=5.0)
