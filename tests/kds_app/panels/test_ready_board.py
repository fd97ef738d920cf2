"""The customer order-ready board against a live companion: an order goes PREPARING → READY as the kitchen
works, and leaves when expo serves it; plus the pure rules behind it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from api_client.models import ItemStatus, OrderStatus
from kds_app.panels.ready_board import ReadyBoard, board_state
from kds_app.startup.config import AppConfig
from tests.helpers.app_screens import (
    on_screen,
    pos_order,
    screen,
    server_order,
    shown_item,
    synced,
    tap_action,
    tap_item,
)
from tests.kds_app.conftest import until
from tests.kds_app.factories import order
from tests.live_server import LiveServer


def test_board_state_sorts_and_hides_names_unless_asked() -> None:
    a = order("11", age_s=300).model_copy(update={"customer_name": "Sam Lee"})
    b = order("12", age_s=200).model_copy(update={"status": OrderStatus.in_progress})
    c = order("13", age_s=100).model_copy(update={"status": OrderStatus.ready})
    d = order("14", age_s=50).model_copy(update={"status": OrderStatus.ready, "updated_at": c.updated_at.replace(
        hour=c.updated_at.hour + 1)})
    state = board_state([c, a, d, b])
    assert state.preparing == ("11", "12") and state.ready == ("14", "13")  # the latest ready on top
    # Every item done but the order row not yet caught up: already ready for the customer.
    done = b.model_copy(update={"order_items": [i.model_copy(update={"status": ItemStatus.done})
                                                for i in b.order_items]})
    assert board_state([done]).ready == ("12",)
    assert board_state([a], show_names=True).preparing == ("11 Sam",)  # first name only, when configured


def test_the_ready_board_setting_is_checked() -> None:
    assert AppConfig(ready_board=True).ready_board
    with pytest.raises(ValueError, match="ready_board must be true or false"):
        replace(AppConfig(), ready_board="yes")


@pytest.mark.slow
async def test_an_order_moves_from_preparing_to_ready_and_leaves_when_served(
    companion: LiveServer, tmp_path: Path, qtbot  # type: ignore[no-untyped-def]
) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        board = ReadyBoard(expo.bridge)  # the expo screen's own store: no second device
        qtbot.addWidget(board)
        board.resize(1280, 720)
        board.show()
        made = await pos_order(companion.url, "501", [("Burger", "grill"), ("Fries", "fry")])
        await pos_order(companion.url, "502", [("Steak", "grill")])
        await until(expo.engine, lambda: board.preparing_numbers() == ("501", "502"))
        assert board.ready_numbers() == ()

        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_action(grill, made)
        await tap_action(grill, made)  # the grill's part is done; the fries are not: still preparing
        await until(expo.engine, lambda: shown_item(expo, made, "Burger", None).status.value == "done")
        assert "501" in board.preparing_numbers()
        await tap_item(expo, made, "Fries", None)  # the last item done: the order is ready
        await until(expo.engine, lambda: board.ready_numbers() == ("501",))
        assert board.preparing_numbers() == ("502",)

        await tap_action(expo, made, None)
        await tap_action(expo, made, None)  # served: off the board with the next redraw, no linger
        await until(expo.engine, lambda: board.ready_numbers() == ())
        assert board.preparing_numbers() == ("502",)
        await synced(expo)
        assert (await server_order(companion.url, made))["status"] == "served"
        assert board.preparing.visible_count() == 1
        board.detach()


def test_a_column_with_more_numbers_than_fit_says_how_many_are_not_shown(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the board never drops numbers silently. 200 numbers in a small column: the last cell says "+N",
    N the numbers not drawn, and shown plus N is every number."""
    from PySide6.QtGui import QPainter

    from kds_app.media import theme
    from kds_app.panels.ready_board import NumberColumn

    drawn: list[str] = []

    class Recording(QPainter):
        def drawText(self, *args: object) -> None:  # type: ignore[override]
            drawn.append(str(args[-1]))
            super().drawText(*args)  # type: ignore[call-overload]

    column = NumberColumn(theme.TEXT)
    qtbot.addWidget(column)
    column.resize(600, 400)
    column.set_labels(tuple(str(1000 + n) for n in range(200)))
    shown, hidden = column.visible_count(), column.hidden_count()
    assert 0 < shown < 200 and shown + hidden == 200

    import kds_app.panels.ready_board as board_module

    monkeypatch.setattr(board_module, "QPainter", Recording)
    column.grab()
    assert drawn[:shown] == [str(1000 + n) for n in range(shown)]
    assert drawn[shown:] == [f"+{hidden}"], "the cell after the last number shown counts the rest"

    column.set_labels(("1", "2", "3"))  # when everything fits there is no "+N"
    assert column.hidden_count() == 0 and column.visible_count() == 3
