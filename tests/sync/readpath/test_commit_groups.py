"""commit_groups: frames of one commit are released together, never split, never held without bound."""

from __future__ import annotations

import pytest

from sync.readpath.commit_groups import CommitGroups, apply_order


def test_a_commit_is_released_whole_when_the_next_one_starts() -> None:
    groups: CommitGroups[str] = CommitGroups(hold_s=0.005)
    assert groups.push("order A", "t1", 0.0) == []
    assert groups.push("item A1", "t1", 0.001) == []
    assert groups.push("item A2", "t1", 0.002) == []
    assert groups.due(0.004) == [], "still within the hold after the last frame"
    assert groups.push("order B", "t2", 0.003) == ["order A", "item A1", "item A2"]
    assert groups.held == 1


def test_a_quiet_group_is_released_after_the_hold() -> None:
    groups: CommitGroups[str] = CommitGroups(hold_s=0.005)
    groups.push("order A", "t1", 1.0)
    assert groups.next_release_at() == pytest.approx(1.005)
    assert groups.due(1.0049) == []
    assert groups.due(1.005) == ["order A"]
    assert groups.next_release_at() is None and groups.held == 0


def test_a_pump_that_asks_late_holds_once_more_for_the_rest_of_the_commit() -> None:
    """A busy process (painting, a long batch) asks for the release well after it was due: the commit's other frames
    may be in the socket unread, so releasing now would paint the order without them (issue 15: 9 of 4,000)."""
    groups: CommitGroups[str] = CommitGroups(hold_s=0.002, max_hold_s=0.05)
    groups.push("order A", "t1", 0.0)
    assert groups.due(0.012) == [], "asked 10 ms after it was due: the rest of the commit may not be read yet"
    assert groups.next_release_at() == pytest.approx(0.014)
    groups.push("item A1", "t1", 0.013)  # read at last
    assert groups.due(0.015) == ["order A", "item A1"], "on time now: released whole"


def test_a_late_pump_still_releases_at_the_bound() -> None:
    groups: CommitGroups[str] = CommitGroups(hold_s=0.002, max_hold_s=0.02)
    groups.push("order A", "t1", 0.0)
    assert groups.due(0.015) == []
    assert groups.next_release_at() == pytest.approx(0.017)
    assert groups.due(0.02) == ["order A"], "late again, but the bound from the first frame is reached"


def test_a_trickling_commit_is_never_held_longer_than_the_bound() -> None:
    groups: CommitGroups[int] = CommitGroups(hold_s=0.005, max_hold_s=0.02)
    for n in range(10):
        groups.push(n, "t1", n * 0.004)  # each frame within the hold of the last: would extend it for ever
        if groups.next_release_at() == pytest.approx(0.02):
            break
    assert groups.due(0.02) == list(range(n + 1))


def test_release_hands_over_everything_in_arrival_order() -> None:
    groups: CommitGroups[str] = CommitGroups()
    groups.push("a", "t1", 0.0)
    groups.push("b", "t1", 0.0)
    assert groups.release() == ["a", "b"]
    assert groups.release() == []


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        CommitGroups(hold_s=0.1, max_hold_s=0.05)


def test_a_commit_applies_orders_before_their_items_and_deletes_last() -> None:
    frames = [
        ("order_items", "INSERT"),
        ("orders", "DELETE"),
        ("order_items", "DELETE"),
        ("orders", "INSERT"),
        ("menu_availability", "UPDATE"),
    ]
    ordered = sorted(frames, key=lambda f: apply_order(*f))
    assert ordered == [
        ("orders", "INSERT"),
        ("order_items", "INSERT"),
        ("menu_availability", "UPDATE"),
        ("order_items", "DELETE"),
        ("orders", "DELETE"),
    ]


# ---------------------------------------------------------------- the data check (orders.item_count)


def test_an_incomplete_commit_is_held_past_the_timing_bound_until_its_items_come() -> None:
    """The server was preempted between two frames of one commit for longer than any hold (30 ms here)."""
    groups: CommitGroups[str] = CommitGroups(
        0.002, 0.05, lambda frames: "order A" not in frames or "item A2" in frames, wait_s=2.0
    )
    groups.push("order A", "t1", 0.0)
    groups.push("item A1", "t1", 0.0)
    assert groups.due(0.002) == [], "timing says go, the data says an item is missing"
    assert groups.due(0.06) == [], "past the timing bound too"
    assert groups.push("order B", "t2", 0.07) == [], "a later commit does not overtake it"
    released = groups.push("item A2", "t1", 0.08)
    assert released == ["order A", "item A1", "item A2"], "the late frame joins its own commit: whole, released"
    assert groups.held == 1, "order B waited behind it"
    assert groups.due(0.13) == ["order B"]


def test_a_whole_commit_goes_as_soon_as_the_next_one_starts() -> None:
    groups: CommitGroups[str] = CommitGroups(0.002, 0.05, lambda frames: True)
    groups.push("order A", "t1", 0.0)
    assert groups.push("order B", "t2", 0.0005) == ["order A"]


def test_a_commit_still_missing_items_goes_after_the_wait_once() -> None:
    groups: CommitGroups[str] = CommitGroups(0.002, 0.05, lambda frames: False, wait_s=2.0)
    groups.push("order A", "t1", 0.0)
    groups.push("order B", "t2", 0.001)
    at = groups.next_release_at()
    assert at is not None and at < 0.1, "looked at again now and then, not only at the wait's end"
    assert groups.due(1.0) == []
    assert groups.due(2.0) == ["order A"], "given up on: applied as it is (the pump asks for a catch-up)"
    assert groups.gave_up == 1
    assert groups.due(2.0005) == [], "order B has its own wait, from its own first frame"
    assert groups.due(2.001) == ["order B"] and groups.gave_up == 2


def test_another_input_takes_only_whole_commits_and_a_lost_connection_takes_all() -> None:
    groups: CommitGroups[str] = CommitGroups(0.002, 0.05, lambda frames: "order A" not in frames or "item A1" in frames)
    groups.push("order B", "t0", 0.0)
    assert groups.release_whole(0.001) == ["order B"], "whole: a REST answer may not overtake it"
    groups.push("order A", "t1", 0.002)
    assert groups.release_whole(0.003) == [], "still missing an item: held, the answer goes first"
    assert groups.release() == ["order A"], "the connection went: the catch-up brings the rest"


def test_wait_must_cover_the_timing_bound() -> None:
    with pytest.raises(ValueError):
        CommitGroups(0.002, 0.05, wait_s=0.01)


def test_a_commit_that_says_it_is_all_here_goes_without_the_hold() -> None:
    """New tickets whose frames carry all their items (`done`) need no timing hold: a cook waits on them."""
    groups: CommitGroups[str] = CommitGroups(hold_s=0.005, done=lambda frames: len(frames) == 3)
    assert groups.push("order A", "t1", 0.0) == []
    assert groups.push("item A1", "t1", 0.001) == [], "not all here yet: held"
    assert groups.push("item A2", "t1", 0.002) == ["order A", "item A1", "item A2"], "all here: at once"
    assert groups.held == 0


def test_a_commit_all_here_still_waits_behind_an_older_one() -> None:
    groups: CommitGroups[str] = CommitGroups(hold_s=0.005, done=lambda frames: frames[-1].startswith("done"))
    groups.push("update X", "t0", 0.0)
    assert groups.push("done B", "t1", 0.001) == ["update X"], "the older commit goes first, on the next one"
    assert groups.held == 1, "the newer one is not the head when it arrives: it keeps its hold"
    assert groups.due(0.006) == ["done B"]
