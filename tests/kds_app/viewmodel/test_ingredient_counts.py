"""Ingredient counts through recipes (issue 19 item 4), without Qt events: quantities multiply, items meet their
recipe whatever the case, only outstanding items count, an item seen on two tickets counts once, and the panel
shows the list only when there is something to count."""

from __future__ import annotations

from api_client.models import ItemStatus
from kds_app.panels.all_day_panel import AllDayPanel
from kds_app.viewmodel.all_day import ingredient_counts
from kds_app.viewmodel.ticket_model import Ticket
from tests.kds_app.factories import item, order

RECIPES = {
    "double burger": (("patty", 2), ("bun", 1)),
    "burger": (("Patty", 1), ("bun", 1), ("cheese", 1)),
}


def _with(ticket_order, *extra):  # type: ignore[no-untyped-def]
    return ticket_order.model_copy(update={"order_items": [*ticket_order.order_items, *extra]})


def test_three_double_burgers_are_six_patties_and_recipes_sum_across_items() -> None:
    a = order("1", ("Steak", "grill"))
    a = _with(a, item(a.id, "Double Burger").model_copy(update={"quantity": 3}), item(a.id, "burger"))
    lines = ingredient_counts([Ticket(a, "grill")], RECIPES)
    assert [(line.name, line.quantity) for line in lines] == [("patty", 7), ("bun", 4), ("cheese", 1)]


def test_only_outstanding_items_count_once_each() -> None:
    a = order("1", ("Double burger", "grill"))
    a = _with(
        a,
        item(a.id, "Double burger", status=ItemStatus.done),
        item(a.id, "Double burger", status=ItemStatus.voided, changed=True),
        item(a.id, "Double burger", held=True),
        item(a.id, "Double burger", status=ItemStatus.cooking),
    )
    same_twice = [Ticket(a, "grill"), Ticket(a, None)]  # expo's whole-order ticket shows the same items
    assert [(line.name, line.quantity) for line in ingredient_counts(same_twice, RECIPES)] == [("patty", 4), ("bun", 2)]
    assert ingredient_counts(same_twice, {}) == []


def test_the_panel_shows_ingredients_only_when_some_item_has_a_recipe(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = AllDayPanel()
    qtbot.addWidget(panel)
    panel.show()
    a = order("1", ("Double burger", "grill"), ("Fries", "grill"))
    panel.update_counts([Ticket(a, "grill")], RECIPES)
    assert panel.ingredient_quantities() == {"patty": 2, "bun": 1} and panel.ingredients_view.isVisible()
    assert panel.quantities() == {"Double burger": 1, "Fries": 1}
    panel.update_counts([Ticket(a, "grill")], {})
    assert panel.ingredient_quantities() == {} and not panel.ingredients_view.isVisible()
    assert not panel.ingredients_title.isVisible()
