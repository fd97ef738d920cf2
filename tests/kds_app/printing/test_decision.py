"""When a screen's own printer prints and which tickets (sans-I/O): from the connection states the screen went
through, the clock, the tickets it shows and what it printed before."""

from __future__ import annotations

from typing import Any

import pytest

from api_client.escpos.slip import slip_from_order
from api_client.models import ItemStatus
from kds_app.printing.decision import OfflineClock, to_print
from kds_app.viewmodel.ticket_model import ticket_key
from sync import ConnectionState as S
from tests.kds_app.factories import order

AFTER_S = 60.0


def on_paper(history: list[tuple[float, S]], now: float, start: S = S.LIVE) -> bool:
    """`history`: (time, state) as the connection reported them, after starting in `start` at time 0."""
    clock = OfflineClock(AFTER_S, start, 0.0)
    for at, state in history:
        clock.note(state, at)
    return clock.on_paper(now)


@pytest.mark.parametrize(
    ("start", "history", "now", "expected"),
    [
        (S.LIVE, [], 500.0, False),  # reached all along
        (S.LIVE, [(10.0, S.RECONNECTING), (11.5, S.OFFLINE)], 69.9, False),  # 59.9 s without a server
        (S.LIVE, [(10.0, S.RECONNECTING), (11.5, S.OFFLINE)], 70.0, True),  # 60 s: counted from the first loss
        (S.CONNECTING, [], 60.0, True),  # a screen that never reached a server since it started
        (S.CONNECTING, [(30.0, S.JOINING), (31.0, S.RECONNECTING)], 90.0, False),  # joining is reached: starts over
        (S.CONNECTING, [(30.0, S.JOINING), (31.0, S.RECONNECTING)], 91.0, True),
        (S.LIVE, [(10.0, S.OFFLINE), (50.0, S.LIVE), (55.0, S.OFFLINE)], 100.0, False),  # back for a moment
        (S.LIVE, [(10.0, S.OFFLINE), (80.0, S.LIVE)], 90.0, False),  # was on paper; a server is back
    ],
)
def test_on_paper_only_after_no_server_was_reached_the_whole_time(
    start: S, history: list[tuple[float, S]], now: float, expected: bool
) -> None:
    assert on_paper(history, now, start) is expected


def test_due_at_says_when_to_look_again() -> None:
    clock = OfflineClock(AFTER_S, S.LIVE, 0.0)
    assert clock.due_at() is None
    clock.note(S.RECONNECTING, 5.0)
    clock.note(S.OFFLINE, 6.5)  # still lost: the count runs from the first loss
    assert clock.due_at() == 65.0


def tickets(*orders: Any, station: str = "grill") -> list[tuple[str, dict[str, Any]]]:
    return [(ticket_key(o.id, station), slip_from_order(station, o)) for o in orders]


def test_each_open_ticket_prints_once_and_a_change_after_prints_nothing() -> None:
    first, second = order("1", ("Burger", "grill")), order("2", ("Steak", "grill"))
    chosen = to_print(tickets(first, second), done=set())
    assert [slip["number"] for _key, slip in chosen] == ["1", "2"]
    printed = {key for key, _slip in chosen}
    # The cook bumps a line of #1 and a third ticket comes back from recall, all on this screen alone.
    changed = first.model_copy(update={"notes": "no salt"})
    third = order("3", ("Wings", "grill"))
    again = to_print(tickets(changed, second, third), done=printed)
    assert [slip["number"] for _key, slip in again] == ["3"]


def test_a_ticket_with_nothing_left_to_cook_does_not_print() -> None:
    done = order("4", ("Burger", "grill"), status=ItemStatus.done)
    voided = order("5", ("Burger", "grill"), status=ItemStatus.voided)
    assert to_print(tickets(done, voided), done=set()) == []
