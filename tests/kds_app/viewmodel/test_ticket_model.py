"""The ticket model: incremental updates that a view can follow (checked by Qt's model tester), quiet first
load, a brief highlight for arrivals, and the two-tap guard on bumps."""

from __future__ import annotations

import pytest

from kds_app.viewmodel.ticket_model import ARM_WINDOW_S, NEW_HIGHLIGHT_S, Role, Ticket, TicketModel
from tests.kds_app.factories import NOW, order


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model(clock: Clock) -> TicketModel:
    return TicketModel(clock=lambda: NOW.timestamp(), monotonic=clock)


def keys(model: TicketModel) -> list[str]:
    return [model.data(model.index(r), Role.KEY) for r in range(model.rowCount())]


def test_updates_pass_the_model_tester(qtmodeltester, model: TicketModel) -> None:
    a, b, c, d = (Ticket(order(n), "grill") for n in "ABCD")
    qtmodeltester.check(model, force_py=True)
    model.set_tickets([a, b, c])
    model.set_tickets([a, c, d])  # b bumped, d arrived
    changed = Ticket(c.order.model_copy(update={"version": 2}), "grill")
    model.set_tickets([d, a, changed])  # re-sorted and changed at once
    model.tick()
    model.set_tickets([])
    qtmodeltester.check(model, force_py=True)


def test_rows_follow_the_tickets_in_order_and_changes_are_row_updates(model: TicketModel, qtbot) -> None:
    a, b, c = (Ticket(order(n), "grill") for n in "ABC")
    model.set_tickets([a, b, c])
    assert keys(model) == [a.key, b.key, c.key]
    changed = Ticket(b.order.model_copy(update={"version": 2}), "grill")
    with qtbot.assert_not_emitted(model.modelReset), qtbot.wait_signal(model.dataChanged) as signal:
        model.set_tickets([a, changed, c])
    assert signal.args[0].row() == 1 and signal.args[1].row() == 1
    assert model.data(model.index(1), Role.TICKET) is changed
    with qtbot.wait_signal(model.rowsRemoved):
        model.set_tickets([a, c])
    assert keys(model) == [a.key, c.key]


def by_number(ticket: Ticket) -> tuple[str, str]:
    return (ticket.order.number, ticket.key)


def test_update_tickets_changes_only_the_touched_rows_and_passes_the_model_tester(
    qtmodeltester, model: TicketModel, qtbot
) -> None:
    a, b, c, d = (Ticket(order(n), "grill") for n in "ABCD")
    qtmodeltester.check(model, force_py=True)
    model.set_tickets([a, c, d], announce=False)
    changed = Ticket(c.order.model_copy(update={"version": 2}), "grill")
    with qtbot.assert_not_emitted(model.layoutChanged), qtbot.wait_signal(model.dataChanged) as signal:
        new = model.update_tickets([b.key, c.key, d.key], [b, changed], sort_key=by_number)  # b came, d left
    assert new == [b] and keys(model) == [a.key, b.key, c.key]
    assert signal.args[0].row() == 1  # c's row when it changed (changes are sent before arrivals)
    assert model.data(model.index(2), Role.TICKET) is changed
    assert model.data(model.index(1), Role.HIGHLIGHT) is True
    qtmodeltester.check(model, force_py=True)


def test_update_tickets_leaves_a_move_or_rows_out_of_order_to_set_tickets(model: TicketModel) -> None:
    a, b, c = (Ticket(order(n), "grill") for n in "ABC")
    model.set_tickets([a, b, c])
    moved = Ticket(a.order.model_copy(update={"number": "Z"}), "grill")  # now sorts last
    assert model.update_tickets([a.key], [moved], sort_key=by_number) is None
    model.set_tickets([c, a, b])  # not in by_number order
    assert model.update_tickets([a.key], [], sort_key=by_number) is None
    assert keys(model) == [c.key, a.key, b.key]  # nothing changed


def test_first_load_is_quiet_and_later_arrivals_glow_briefly(model: TicketModel, clock: Clock) -> None:
    a, b = Ticket(order("A"), "grill"), Ticket(order("B"), "grill")
    assert model.set_tickets([a], announce=False) == []
    assert model.data(model.index(0), Role.HIGHLIGHT) is False
    assert model.set_tickets([a, b]) == [b]
    assert model.data(model.index(1), Role.HIGHLIGHT) is True
    clock.t += NEW_HIGHLIGHT_S - 0.5
    model.tick()
    assert model.data(model.index(1), Role.HIGHLIGHT) is True
    clock.t += 1.0
    model.tick()
    assert model.data(model.index(1), Role.HIGHLIGHT) is False  # then calm: no endless flashing


def test_a_bump_needs_a_second_tap_within_the_window(model: TicketModel, clock: Clock) -> None:
    a = Ticket(order("A"), "grill")
    model.set_tickets([a])
    assert model.arm(a.key) is False
    assert model.data(model.index(0), Role.ARMED) is True
    clock.t += ARM_WINDOW_S + 0.1
    model.tick()
    assert model.data(model.index(0), Role.ARMED) is False
    assert model.arm(a.key) is False  # too late: this tap arms again, it does not bump
    clock.t += 1.0
    assert model.arm(a.key) is True
    assert model.data(model.index(0), Role.ARMED) is False


def test_age_comes_from_the_order_time(model: TicketModel) -> None:
    model.set_tickets([Ticket(order("A", age_s=330), "grill")])
    assert model.data(model.index(0), Role.AGE_S) == pytest.approx(330)


def test_duplicate_keys_are_refused(model: TicketModel) -> None:
    a = Ticket(order("A"), "grill")
    with pytest.raises(ValueError, match="duplicate"):
        model.set_tickets([a, a])
