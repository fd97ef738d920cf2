"""catchup: the subscription cycle, driven by hand (no sockets, no loop, time passed in)."""

from __future__ import annotations

import pytest

from sync.readpath.catchup import Apply, CatchUp, FetchPage, FetchSnapshot, Live, Phase, Resync
from sync.readpath.merge import SOURCES, Delete, Upsert
from sync.realtime.changes import RawChange

from .rows import delete_push, item, menu, order, push, uid, with_items

CURSOR = {"orders": 1000, "order_items": 900, "menu_availability": 50, "deleted_rows": 990}


def only(actions: list, kind: type):
    assert len(actions) == 1 and isinstance(actions[0], kind), actions
    return actions[0]


def finish_empty_tables(cu: CatchUp, first: FetchPage, now: float = 0.0) -> list:
    """Answer `first` and every following table with empty pages; return the final actions."""
    request = first
    while True:
        actions = cu.page_loaded(request.request_id, [], now)
        nxt = [a for a in actions if isinstance(a, FetchPage)]
        if not nxt:
            return actions
        request = nxt[0]


def test_subscribe_pages_each_table_from_cursor_minus_overlap() -> None:
    cu = CatchUp("r1", CURSOR, overlap=200, page_limit=3)
    assert cu.phase is Phase.IDLE
    first = only(cu.subscribed(now=0.0), FetchPage)
    assert cu.phase is Phase.CATCHING_UP
    assert (first.table, first.since, first.limit) == ("orders", 800, 3)
    # A full page asks for the next one from its highest seq.
    rows = [order(1, 801), with_items(order(2, 850), [item(20, 2, 700)]), order(3, 990)]
    actions = cu.page_loaded(first.request_id, rows, 0.0)
    apply_, nxt = actions
    assert isinstance(apply_, Apply) and isinstance(nxt, FetchPage)
    assert [type(c.row).__name__ for c in apply_.changes] == ["OrderPublic"] * 2 + ["OrderItemPublic", "OrderPublic"]
    assert all(isinstance(c, Upsert) and c.read_at is not None for c in apply_.changes)
    # Still below the old cursor: the overlap re-read never moves a cursor back.
    assert apply_.cursor == CURSOR
    assert (nxt.table, nxt.since) == ("orders", 990)
    apply_, nxt = cu.page_loaded(nxt.request_id, [order(4, 1005)], 0.0)
    assert apply_.cursor == {**CURSOR, "orders": 1005}
    assert (nxt.table, nxt.since) == ("order_items", 700)
    apply_, nxt = cu.page_loaded(nxt.request_id, [item(30, 4, 1004)], 0.0)
    assert apply_.cursor == {**CURSOR, "orders": 1005, "order_items": 1004}
    assert (nxt.table, nxt.since) == ("menu_availability", 0)
    apply_, nxt = cu.page_loaded(nxt.request_id, [], 5.0)
    assert (nxt.table, nxt.since) == ("deleted_rows", 790)
    apply_, live = cu.page_loaded(nxt.request_id, [], 5.0)
    assert live == Live({"orders": 1005, "order_items": 1004, "menu_availability": 50, "deleted_rows": 990})
    assert cu.phase is Phase.LIVE
    assert cu.cursor == live.cursor


def test_first_start_takes_a_snapshot_then_catches_up_from_its_head() -> None:
    cu = CatchUp("r1", None, overlap=10, page_limit=100)
    snap = only(cu.subscribed(0.0), FetchSnapshot)
    rows = [with_items(order(1, 40), [item(10, 1, 39)]), menu(5, 12), order(9, 41, restaurant="r2")]
    apply_, page = cu.snapshot_loaded(snap.request_id, rows, head_seq=45, now=0.0)
    assert isinstance(apply_, Apply) and isinstance(page, FetchPage)
    assert apply_.reset
    assert {c.row.id for c in apply_.changes} == {uid(1), uid(10), uid(5)}  # r2's row is not ours
    assert apply_.cursor == dict.fromkeys(SOURCES, 45)
    assert (page.table, page.since) == ("orders", 35)
    assert isinstance(finish_empty_tables(cu, page)[-1], Live)


def test_pushes_are_buffered_until_caught_up_then_drained_in_arrival_order() -> None:
    cu = CatchUp("r1", CURSOR)
    assert cu.subscribing() == []
    assert cu.phase is Phase.BUFFERING
    assert cu.event(push(order(1, 1010, version=3))) == []  # before SUBSCRIBED: kept
    page = only(cu.subscribed(0.0), FetchPage)
    assert cu.event(push(order(1, 1009, version=2))) == []  # out of order: merge sorts it out
    assert cu.event(push(order(1, 1010, version=3))) == []  # duplicate
    assert cu.buffered == 3
    final = finish_empty_tables(cu, page)
    drained, live = final[-2:]
    assert isinstance(drained, Apply) and drained.cursor is None
    assert [c.row.change_seq for c in drained.changes] == [1010, 1009, 1010]
    assert isinstance(live, Live)
    assert cu.buffered == 0
    # Live: applied at once.
    assert cu.event(push(order(2, 1011))) == [Apply((Upsert(order(2, 1011)),))]


def test_pushes_for_another_restaurant_are_ignored() -> None:
    cu = CatchUp("r1", CURSOR)
    finish_empty_tables(cu, only(cu.subscribed(0.0), FetchPage))
    assert cu.event(push(order(1, 1100, restaurant="r2"))) == []
    assert cu.event(delete_push("orders", uid(1), restaurant_id="r2")) == []
    assert cu.event(push(item(3, 1, 1101, restaurant="r2"), "INSERT")) == []


def test_delete_push_carries_the_stream_high_water_as_its_lower_bound() -> None:
    cu = CatchUp("r1", CURSOR)
    finish_empty_tables(cu, only(cu.subscribed(0.0), FetchPage))
    cu.event(push(item(10, 1, 1200)))
    cu.event(push(item(11, 1, 1150)))  # late: does not lower the bound
    (apply_,) = cu.event(delete_push("order_items", uid(10)))
    (delete,) = apply_.changes
    assert isinstance(delete, Delete)
    assert (delete.table, delete.id, delete.after_seq) == ("order_items", uid(10), 1200)


def test_reconnect_mid_catch_up_restarts_cleanly_and_keeps_the_buffer() -> None:
    cu = CatchUp("r1", CURSOR, overlap=100, page_limit=2)
    first = only(cu.subscribed(0.0), FetchPage)
    _, second = cu.page_loaded(first.request_id, [order(1, 950), order(2, 1020)], 0.0)
    cu.event(delete_push("orders", uid(7)))
    # The socket drops and comes back before the second page answers.
    cu.disconnected()
    assert cu.phase is Phase.IDLE
    assert cu.subscribing() == []
    restart = only(cu.subscribed(1.0), FetchPage)
    assert (restart.table, restart.since) == ("orders", 920)  # from the cursor the first page advanced
    # The old cycle's answer is ignored, whatever it says.
    assert cu.page_loaded(second.request_id, [order(3, 1030)], 1.0) == []
    assert cu.page_loaded(first.request_id, [], 1.0) == []
    assert cu.request_failed(second.request_id, 1.0) == []
    final = finish_empty_tables(cu, restart, 1.0)
    drained = final[-2]
    assert [type(c) for c in drained.changes] == [Delete]  # the DELETE survived the restart


def test_subscribed_again_without_disconnect_also_restarts() -> None:
    cu = CatchUp("r1", CURSOR)
    first = only(cu.subscribed(0.0), FetchPage)
    again = only(cu.subscribed(0.5), FetchPage)
    assert again.request_id != first.request_id
    assert cu.page_loaded(first.request_id, [], 0.5) == []
    assert isinstance(finish_empty_tables(cu, again)[-1], Live)


def test_rows_at_or_below_since_are_ignored() -> None:
    cu = CatchUp("r1", {"orders": 100, "order_items": 100, "menu_availability": 100}, overlap=0, page_limit=10)
    page = only(cu.subscribed(0.0), FetchPage)
    apply_, _ = cu.page_loaded(page.request_id, [order(1, 90), order(2, 100), order(3, 101)], 0.0)
    assert [c.row.id for c in apply_.changes] == [uid(3)]


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([order(1, 1010), order(2, 1005)], "not in change_seq order"),
        ([order(1, 700), order(2, 750)], "no progress"),
        ([order(1, 1010), order(2, 1011), order(3, 1012)], "more than the limit"),
        ([order(1, 1010), menu(2, 1011)], "another table"),
    ],
)
def test_an_inconsistent_page_forces_a_resync(rows: list, reason: str) -> None:
    cu = CatchUp("r1", CURSOR, page_limit=2)
    page = only(cu.subscribed(0.0), FetchPage)
    resync, snapshot = cu.page_loaded(page.request_id, rows, 0.0)
    assert isinstance(resync, Resync) and reason in resync.reason
    assert isinstance(snapshot, FetchSnapshot)
    assert cu.cursor is None
    assert cu.phase is Phase.CATCHING_UP
    apply_, nxt = cu.snapshot_loaded(snapshot.request_id, [order(1, 1010)], head_seq=1020, now=0.0)
    assert apply_.cursor == dict.fromkeys(SOURCES, 1020)
    assert isinstance(finish_empty_tables(cu, nxt)[-1], Live)


def test_a_short_page_out_of_order_is_also_refused() -> None:
    cu = CatchUp("r1", CURSOR, page_limit=10)
    page = only(cu.subscribed(0.0), FetchPage)
    assert isinstance(cu.page_loaded(page.request_id, [order(1, 1010), order(2, 1005)], 0.0)[0], Resync)


def test_failed_read_is_retried_at_tick_with_growing_delay() -> None:
    cu = CatchUp("r1", CURSOR, retry_delay_s=1.0, max_retry_delay_s=3.0)
    page = only(cu.subscribed(0.0), FetchPage)
    assert cu.request_failed(page.request_id, 10.0) == []
    assert cu.next_deadline() == 11.0
    assert cu.tick(10.9) == []
    again = only(cu.tick(11.0), FetchPage)
    assert (again.table, again.since) == (page.table, page.since)
    assert again.request_id != page.request_id
    assert cu.page_loaded(page.request_id, [], 11.0) == []  # the failed request's late answer
    cu.request_failed(again.request_id, 20.0)
    assert cu.next_deadline() == 22.0
    third = only(cu.tick(22.0), FetchPage)
    cu.request_failed(third.request_id, 30.0)
    assert cu.next_deadline() == 33.0  # capped
    fourth = only(cu.tick(33.0), FetchPage)
    assert isinstance(finish_empty_tables(cu, fourth, 33.0)[-1], Live)


def test_a_night_offline_keeps_retrying_at_the_cap() -> None:
    # 1,100 failures in a row (nine hours at 30 s): 2**1100 seconds is no float, the cap must come first.
    cu = CatchUp("r1", CURSOR, retry_delay_s=1.0, max_retry_delay_s=30.0)
    request = only(cu.subscribed(0.0), FetchPage)
    now = 0.0
    for _ in range(1100):
        cu.request_failed(request.request_id, now)
        deadline = cu.next_deadline()
        assert deadline is not None and deadline - now <= 30.0
        now = deadline
        request = only(cu.tick(now), FetchPage)


def test_failed_snapshot_is_retried_as_a_snapshot() -> None:
    cu = CatchUp("r1", None)
    snap = only(cu.subscribed(0.0), FetchSnapshot)
    cu.request_failed(snap.request_id, 0.0)
    assert isinstance(only(cu.tick(5.0), FetchSnapshot), FetchSnapshot)


def test_safety_net_catch_up_runs_on_tick_after_the_interval() -> None:
    cu = CatchUp("r1", CURSOR, safety_interval_s=60.0)
    finish_empty_tables(cu, only(cu.subscribed(0.0), FetchPage), now=5.0)
    assert cu.next_deadline() == 65.0
    assert cu.tick(64.9) == []
    page = only(cu.tick(65.0), FetchPage)
    assert cu.phase is Phase.CATCHING_UP
    cu.event(push(order(1, 1100)))  # buffered again during the safety-net catch-up
    assert cu.buffered == 1
    assert isinstance(finish_empty_tables(cu, page, 66.0)[-1], Live)
    assert cu.next_deadline() == 126.0


def test_unreadable_push_triggers_a_catch_up_at_the_next_tick() -> None:
    cu = CatchUp("r1", CURSOR)
    finish_empty_tables(cu, only(cu.subscribed(0.0), FetchPage))
    assert cu.event(RawChange({"table": "orders"}, "bad")) == []
    # Due at once (the pump wakes for it), not at the safety interval a minute later.
    assert cu.next_deadline() is not None and cu.next_deadline() <= 1.0
    assert isinstance(only(cu.tick(1.0), FetchPage), FetchPage)
    assert cu.next_deadline() is None or cu.next_deadline() > 1.0


def test_nothing_happens_on_tick_while_idle_or_buffering() -> None:
    cu = CatchUp("r1", CURSOR)
    assert cu.tick(1000.0) == []
    assert cu.next_deadline() is None
    cu.subscribing()
    assert cu.tick(2000.0) == []


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        CatchUp("r1", None, page_limit=0)


def test_pushes_older_than_a_snapshot_are_dropped() -> None:
    # Order 1 was open at seq 40 and served at 44 (that push was lost); the snapshot (head 45) no longer has it.
    # The buffered push of seq 40 must not put the served order back on screen as open.
    cu = CatchUp("r1", None)
    cu.subscribing()
    cu.event(push(order(1, 40)))
    snap = only(cu.subscribed(0.0), FetchSnapshot)
    cu.event(push(order(2, 46)))
    _, page = cu.snapshot_loaded(snap.request_id, [], head_seq=45, now=0.0)
    drained = finish_empty_tables(cu, page)[-2]
    assert [c.row.id for c in drained.changes] == [uid(2)]
    assert cu.event(push(order(1, 44))) == []  # live, still older than the snapshot
    assert cu.event(push(order(1, 47))) != []


def test_want_runs_a_catch_up_at_once_when_live() -> None:
    cu = CatchUp("r1", CURSOR)
    finish_empty_tables(cu, only(cu.subscribed(0.0), FetchPage), 0.0)
    assert cu.next_deadline() == 60.0
    cu.want()
    assert cu.next_deadline() is not None and cu.next_deadline() <= 1.0
    assert isinstance(only(cu.tick(1.0), FetchPage), FetchPage)


def test_a_buffered_delete_refuted_by_a_later_read_does_not_bury_the_reinserted_row() -> None:
    """An order line deleted and inserted again under the same id (a hub re-projecting a LAN line) while the screen
    catches up: the DELETE is buffered, then a page read after it shows the row. Draining the DELETE after the page
    would delete the live row, and nothing later would bring it back."""
    from sync.readpath.merge import LocalState

    cu = CatchUp("r1", CURSOR, overlap=0, page_limit=10)
    state = LocalState()
    state.apply(Upsert(item(10, 1, 880), 0))
    cu.subscribing()
    cu.event(delete_push("order_items", uid(10)))  # arrives before the read below is issued
    first = only(cu.subscribed(0.0), FetchPage)
    actions = cu.page_loaded(first.request_id, [], 0.0)
    for action in actions:
        if isinstance(action, Apply):
            state.apply_all(action.changes)
    items_page = next(a for a in actions if isinstance(a, FetchPage))
    assert items_page.table == "order_items"
    actions = cu.page_loaded(items_page.request_id, [item(10, 1, 905)], 0.0)
    while True:
        for action in actions:
            if isinstance(action, Apply):
                state.apply_all(action.changes)
        nxt = [a for a in actions if isinstance(a, FetchPage)]
        if not nxt:
            break
        actions = cu.page_loaded(nxt[0].request_id, [], 0.0)
    assert cu.phase is Phase.LIVE
    assert ("order_items", uid(10)) in state.rows


def test_a_delete_that_arrives_while_a_page_is_in_flight_still_applies() -> None:
    """The read was issued before the DELETE arrived: it may predate the delete, so the DELETE wins."""
    cu = CatchUp("r1", CURSOR, overlap=0, page_limit=10)
    first = only(cu.subscribed(0.0), FetchPage)
    _, items_page = cu.page_loaded(first.request_id, [], 0.0)
    cu.event(delete_push("order_items", uid(10)))
    cu.page_loaded(items_page.request_id, [item(10, 1, 905)], 0.0)
    drained = finish_empty_tables(cu, FetchPage(items_page.request_id + 1, "menu_availability", 50, 10))
    deletes = [c for a in drained if isinstance(a, Apply) for c in a.changes if isinstance(c, Delete)]
    assert [d.id for d in deletes] == [uid(10)]
