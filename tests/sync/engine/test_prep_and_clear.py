"""Prep-time figures from a real local store, and orders cleared at day end leaving every listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client.business_day import day_start, kitchen_date, next_boundary
from api_client.models import DeviceRole
from api_client.prep_time import percentile, station_done_at, summarize
from sync.engine.prep_times import prep_times
from sync.store import LocalStore, read_rows
from sync.store.migrations import LATEST, current_version
from tests.sync.store.support import NOW

from .test_tickets import BURGER, FRIES, Clock, bumped, make_order, minutes, save, shown


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1", clock=Clock(NOW))
    yield s
    s.close()


def done(name: str, station: str, at_min: float) -> dict[str, object]:
    return {"name": name, "station": station, "status": "done", "done_at": minutes(at_min).isoformat()}


def test_percentile_is_nearest_rank_and_average_is_the_mean() -> None:
    assert percentile([5.0], 90) == 5.0
    assert percentile(list(map(float, range(1, 11))), 90) == 9.0  # 9 of 10 tickets took at most 9
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(map(float, range(1, 21))), 90) == 18.0
    summary = summarize("grill", [60.0, 120.0, 600.0])
    assert summary is not None and (summary.count, summary.avg_s, summary.p90_s) == (3, 260.0, 600.0)
    assert summarize("grill", []) is None
    with pytest.raises(ValueError):
        percentile([], 90)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_a_station_is_done_when_its_last_live_item_is() -> None:
    order = make_order([done("Burger", "grill", 4), done("Steak", "grill", 9), {**BURGER, "status": "voided"}])
    assert station_done_at(order.order_items) == minutes(9), "voided lines do not count"
    still = make_order([done("Burger", "grill", 4), {**BURGER, "status": "cooking"}])
    assert station_done_at(still.order_items) is None
    legacy = make_order([{**BURGER, "status": "done"}])  # done before the server had done_at
    assert station_done_at(legacy.order_items) is None


def test_prep_times_per_station_from_the_store(store: LocalStore) -> None:
    fast = make_order([done("Burger", "grill", 2), done("Fries", "fry", 3)], number="1")
    slow = make_order([done("Burger", "grill", 10), {**FRIES, "status": "cooking"}], number="2")
    cancelled = make_order([done("Burger", "grill", 30)], status="cancelled", number="3")
    yesterday = make_order([done("Burger", "grill", -24 * 60)], number="4")
    save(store, fast, slow, cancelled, yesterday)
    with store.snapshot() as conn:
        figures = prep_times(conn, NOW - timedelta(hours=1))
        grill_only = prep_times(conn, NOW - timedelta(hours=1), ["grill"])
    by_station = {f.station: f for f in figures}
    assert sorted(by_station) == ["fry", "grill"]
    grill = by_station["grill"]
    assert (grill.count, grill.avg_s, grill.p90_s) == (2, 360.0, 600.0)
    assert (by_station["fry"].count, by_station["fry"].avg_s) == (1, 180.0), "fry finished order 1 only"
    assert [f.station for f in grill_only] == ["grill"]


def test_a_fire_timed_station_counts_from_its_fire_not_the_order(store: LocalStore) -> None:
    """Issue 19 item 1: a ribeye (10:00, grill) and fries (3:00, fry) sent together; the fries fire 7 minutes in and
    are done at 10:00, so the fry's ticket took 3 minutes of work, not 10 of waiting. Fries a cook fired early and
    finished before their planned fire count from the order (their real start is on no row); untimed fries as
    before."""
    sent = NOW.isoformat()

    def line(name: str, station: str, prep: int | None, done_min: float) -> dict[str, object]:
        return {**done(name, station, done_min), "fired_at": sent, "prep_seconds": prep}

    timed = make_order([line("Ribeye", "grill", 600, 10), line("Fries", "fry", 180, 10)], number="1")
    early = make_order([line("Ribeye", "grill", 600, 10), line("Fries", "fry", 180, 4)], number="2")
    untimed = make_order([line("Ribeye", "grill", None, 10), line("Fries", "fry", None, 5)], number="3")
    save(store, timed, early, untimed)
    with store.snapshot() as conn:
        figures = {f.station: f for f in prep_times(conn, NOW - timedelta(hours=1))}
    assert figures["grill"].p90_s == 600.0
    fry = figures["fry"]
    assert (fry.count, fry.p90_s) == (3, 300.0)
    assert fry.avg_s == (180 + 240 + 300) / 3, "fired 7:00 in, done at 10:00: 3:00 of work (was 10:00)"


def test_cleared_orders_leave_open_tickets_and_the_recall_drawer(store: LocalStore) -> None:
    open_order = make_order([BURGER, FRIES], number="O1")
    finished_here = make_order([done("Burger", "grill", 1), FRIES], status="in_progress", number="O2")
    save(store, open_order, finished_here)
    assert len(shown(store, "grill")) == 1 and len(bumped(store, "grill", NOW - timedelta(hours=1))) == 1
    cleared_at = minutes(60)
    with store.transaction() as conn:
        touched = read_rows.apply_changes(
            conn,
            [
                read_rows.Upsert(
                    o.model_copy(update={"cleared_at": cleared_at, "version": 2, "change_seq": 50 + n}), read_at=0
                )
                for n, o in enumerate((open_order, finished_here))
            ],
        )
    assert touched == {open_order.id, finished_here.id}, "the screen redraws both"
    for station in ("grill", "fry", None):
        role = DeviceRole.expo if station is None else DeviceRole.kds
        assert shown(store, station, role) == []
        assert bumped(store, station, NOW - timedelta(hours=1), role) == []
    with store.snapshot() as conn:
        # Their times still count: the grill did finish order O2.
        assert [f.count for f in prep_times(conn, NOW - timedelta(hours=1), ["grill"])] == [1]


def test_the_local_schema_is_at_the_latest_step(store: LocalStore) -> None:
    with store.snapshot() as conn:
        assert current_version(conn) == LATEST


@pytest.mark.parametrize(
    ("now", "start", "following"),
    [
        ("2026-11-22T10:00:00+01:00", "2026-11-22T04:00:00+01:00", "2026-11-23T04:00:00+01:00"),
        ("2026-11-22T03:59:59+01:00", "2026-11-21T04:00:00+01:00", "2026-11-22T04:00:00+01:00"),
        ("2026-11-22T04:00:00+01:00", "2026-11-22T04:00:00+01:00", "2026-11-23T04:00:00+01:00"),
        # Spring forward (2027-03-28, 02:00 → 03:00): the day that loses an hour is 23 hours long.
        ("2027-03-27T12:00:00+01:00", "2027-03-27T04:00:00+01:00", "2027-03-28T04:00:00+02:00"),
        # Fall back (2026-10-25): 25 hours long.
        ("2026-10-24T12:00:00+02:00", "2026-10-24T04:00:00+02:00", "2026-10-25T04:00:00+01:00"),
    ],
)
def test_day_boundaries_follow_local_wall_time(now: str, start: str, following: str) -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    at = datetime.fromisoformat(now)
    assert day_start(at, 4, paris) == datetime.fromisoformat(start)
    assert next_boundary(at, 4, paris) == datetime.fromisoformat(following)
    assert day_start(at, 4, paris).tzinfo is UTC
    assert kitchen_date(datetime.fromisoformat("2026-11-23T02:00:00+01:00"), 4, paris).isoformat() == "2026-11-22"


def test_bad_day_end_input_is_refused() -> None:
    from api_client.business_day import check_hour, zone

    with pytest.raises(ValueError, match="0 to 23"):
        check_hour(24)
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError, match="timezone-aware"):
        day_start(datetime(2026, 11, 22, 10), 4, UTC)
