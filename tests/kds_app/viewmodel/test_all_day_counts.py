"""All-day counting without Qt events: what counts as outstanding, grouping, order, and the panel's model."""

from __future__ import annotations

from api_client.models import ItemStatus
from kds_app.panels.all_day_panel import AllDayModel, AllDayPanel
from kds_app.viewmodel.all_day import AllDayLine, all_day_counts
from kds_app.viewmodel.ticket_model import Ticket
from tests.kds_app.factories import item, order


def _with(ticket_order, *extra):  # type: ignore[no-untyped-def]
    return ticket_order.model_copy(update={"order_items": [*ticket_order.order_items, *extra]})


def test_counts_outstanding_items_largest_first() -> None:
    a = order("1", ("Burger", "grill"), ("Steak", "grill"))
    b = order("2", ("Burger", "grill"))
    c = order("3", ("Burger", "grill"), ("Wings", "grill"))
    b = _with(b, item(b.id, "Burger").model_copy(update={"quantity": 3}))
    lines = all_day_counts([Ticket(o, "grill") for o in (a, b, c)])
    assert [(line.name, line.quantity) for line in lines] == [("Burger", 6), ("Steak", 1), ("Wings", 1)]


def test_done_voided_and_held_items_are_not_outstanding() -> None:
    a = order("1", ("Burger", "grill"))
    a = _with(
        a,
        item(a.id, "Burger", status=ItemStatus.done),
        item(a.id, "Burger", status=ItemStatus.voided, changed=True),
        item(a.id, "Burger", held=True),  # a later course, not fired: not to be cooked yet
        item(a.id, "Burger", status=ItemStatus.cooking),
        item(a.id, "Steak", status=ItemStatus.done),
    )
    assert all_day_counts([Ticket(a, "grill")]) == [AllDayLine("grill", "Burger", 2)]


def test_modifiers_do_not_split_a_line_but_are_broken_down() -> None:
    a = order("1", ("Burger", "grill"))
    a = _with(
        a,
        item(a.id, "Burger", modifiers=("no onion",)),
        item(a.id, "Burger", modifiers=("no onion",)),
        item(a.id, "Burger", modifiers=("extra cheese", "well done")),
    )
    [line] = all_day_counts([Ticket(a, "grill")])
    assert line.quantity == 4
    assert line.variants == (("no onion", 2), ("extra cheese, well done", 1))
    assert line.variants_text() == "2\u00d7 no onion · 1\u00d7 extra cheese, well done"


def test_expo_counts_every_station_separately_and_each_item_once() -> None:
    a = order("1", ("Burger", "grill"), ("Fries", "fry"), ("Burger", "grill"))
    b = order("2", ("Fries", "fry"))
    lines = all_day_counts([Ticket(a, None), Ticket(b, None), Ticket(a, None)])  # a listed twice: counted once
    assert [(line.station, line.name, line.quantity) for line in lines] == [
        ("grill", "Burger", 2), ("fry", "Fries", 2)
    ]


def test_no_tickets_no_lines() -> None:
    assert all_day_counts([]) == []


def test_the_panel_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = AllDayModel()
    qtmodeltester.check(model, force_py=True)
    a = order("1", ("Burger", "grill"), ("Steak", "grill"))
    b = order("2", ("Burger", "grill"))
    model.count_tickets([Ticket(a, "grill"), Ticket(b, "grill")])
    assert model.data(model.index(0)) == "2 Burger"
    model.count_tickets([Ticket(a, "grill")])  # same lines, one number down: changed in place
    assert [line.quantity for line in model.lines()] == [1, 1]
    model.count_tickets([Ticket(b, "grill")])  # a line left
    model.count_tickets([])
    assert model.rowCount() == 0
    qtmodeltester.check(model, force_py=True)


def test_in_place_change_emits_data_changed_not_a_reset(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = AllDayModel()
    a = order("1", ("Burger", "grill"))
    b = order("2", ("Burger", "grill"))
    model.count_tickets([Ticket(a, "grill"), Ticket(b, "grill")])
    resets: list[object] = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.count_tickets([Ticket(a, "grill")])
    assert resets == []


def test_the_panel_names_the_station_only_when_it_matters(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = AllDayPanel(18)
    qtbot.addWidget(panel)
    a = order("1", ("Burger", "grill"), ("Fries", "fry"))
    grill_only = a.model_copy(update={"order_items": [i for i in a.order_items if i.station == "grill"]})
    panel.update_counts([Ticket(grill_only, "grill")])  # as the engine lists a station's ticket
    assert not panel.model.show_station and panel.quantities() == {"Burger": 1}
    panel.update_counts([Ticket(a, None)])
    assert panel.model.show_station and panel.quantities() == {"Burger": 1, "Fries": 1}
    assert not panel.empty.isVisibleTo(panel)
    panel.update_counts([])
    assert panel.empty.isVisibleTo(panel)
