"""Items added or voided after the ticket reached the kitchen (issue 16): amber until a cook acknowledges them,
and never what keeps a ticket on the rail. Driven with touch taps and bump-bar keys on a live screen against a
real companion process; what is checked is what the model holds, what the server stored and what was painted."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from api_client.models import ItemStatus
from kds_app.cards.card_layout import CardLayout
from kds_app.media import theme
from kds_app.viewmodel.ticket_model import Role, ticket_key
from kds_app.windows.app import Session
from tests.conftest import token_for
from tests.helpers.app_controls import near
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
from tests.helpers.bump_bar_keys import press, selected
from tests.kds_app.conftest import APIKEY, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

Key = Qt.Key


def pos_headers() -> dict[str, str]:
    return {"apikey": APIKEY, "Authorization": f"Bearer {token_for('pos')}", "Idempotency-Key": str(uuid.uuid4())}


async def pos_add(url: str, order_id: UUID, name: str) -> None:
    """The table orders one more dish after the ticket went to the kitchen."""
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post(f"/api/v1/orders/{order_id}/items", json={"items": [{"name": name, "station": "grill"}]},
                            headers=pos_headers())
    assert r.status_code == 201, r.text


async def pos_void(url: str, item_id: UUID) -> None:
    """The POS voids a line, as it writes to Supabase (PostgREST PATCH)."""
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.patch("/rest/v1/order_items", params={"id": f"eq.{item_id}"}, json={"status": "voided"},
                             headers=pos_headers())
    assert r.status_code in (200, 204), r.text


def server_items(order: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {i["name"]: (i["status"], i["changed_after_send"]) for i in order["order_items"]}


def card(session: Session, order_id: UUID) -> tuple[CardLayout, QPoint]:
    """The card's layout and its top left in the grid's viewport (its page shown)."""
    grid = session.window.grid
    key = ticket_key(order_id, "grill")
    grid.point_of(key)  # its page shown
    ticket = session.screen.ticket(key)
    assert ticket is not None
    return grid.delegate.layout_for(ticket), grid.visual_rect(key).topLeft()


def painted(session: Session) -> QImage:
    """What the grid shows now, drawn by its own paint path."""
    grid = session.window.grid
    grid.relayout()
    return grid.viewport().grab().toImage()




def tag_colour(session: Session, order_id: UUID, name: str) -> QColor:
    """The fill of an item's tag pill (inside its right edge, clear of the centred text)."""
    layout, origin = card(session, order_id)
    block = next(b for b in layout.items if b.item.name == name)
    pill = session.window.grid.delegate.tag_rect(block, layout.width)
    return painted(session).pixelColor(origin + QPoint(pill.right() - 3, pill.center().y()))


async def test_bumping_a_ticket_with_an_unacknowledged_added_item_takes_it_off_the_rail(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = await pos_order(companion.url, "400", [("Burger", "grill"), ("Fries", "grill")])
        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_action(grill, made)
        await tap_action(grill, made)
        assert not on_screen(grill, made)
        await synced(grill)

        await pos_add(companion.url, made, "Steak")  # the table wants one more: the ticket comes back for it
        await until(grill.engine, lambda: on_screen(grill, made))
        assert shown_item(grill, made, "Steak").changed_after_send
        assert near(tag_colour(grill, made, "Steak"), theme.CHANGED)  # ADDED, in amber
        layout, _ = card(grill, made)
        assert layout.action_ready and not layout.acknowledge

        await tap_action(grill, made)
        await tap_action(grill, made)
        assert not on_screen(grill, made)  # at once: no grey ON HOLD ticket left behind
        await synced(grill)
        assert server_items(await server_order(companion.url, made)) == {
            "Burger": ("done", False), "Fries": ("done", False), "Steak": ("done", False),
        }
        assert not on_screen(grill, made)  # and the server's answer does not bring it back


async def test_a_void_is_amber_until_acknowledged_and_a_ticket_left_with_only_a_void_is_acknowledged_from_its_zone(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        made = await pos_order(companion.url, "401", [("Burger", "grill"), ("Fries", "grill"), ("Salad", "grill")])
        await until(grill.engine, lambda: on_screen(grill, made))
        await tap_item(grill, made, "Burger")  # the kitchen has started: what changes now is news
        await synced(grill)

        await pos_void(companion.url, shown_item(grill, made, "Fries").id)
        await until(grill.engine, lambda: shown_item(grill, made, "Fries").status is ItemStatus.voided)
        assert shown_item(grill, made, "Fries").changed_after_send
        void_fill = tag_colour(grill, made, "Fries")
        assert near(void_fill, theme.CHANGED), void_fill.name()  # as ADDED is: amber, not red
        await tap_item(grill, made, "Fries")  # the cook has seen it
        assert not shown_item(grill, made, "Fries").changed_after_send
        assert near(tag_colour(grill, made, "Fries"), theme.SERVE_WAITING)  # a quiet grey VOID from now on

        await tap_action(grill, made)
        await tap_action(grill, made)
        assert not on_screen(grill, made)
        await synced(grill)

        # The POS voids a dish the grill has already sent: the ticket comes back only to say so.
        salad = next(i for i in (await server_order(companion.url, made))["order_items"] if i["name"] == "Salad")
        await pos_void(companion.url, UUID(salad["id"]))
        await until(grill.engine, lambda: on_screen(grill, made))
        layout, origin = card(grill, made)
        assert layout.acknowledge and not layout.action_ready
        image = painted(grill)
        zone = layout.action.translated(origin)
        assert near(image.pixelColor(QPoint(zone.left() + 3, zone.center().y())), theme.CHANGED)  # amber outline
        assert near(image.pixelColor(QPoint(zone.left() + 12, zone.top() + 8)), theme.SERVE_WAITING)

        await tap_action(grill, made)  # one tap only arms, as BUMP does
        model = grill.screen.model
        assert model.data(model.index(model.row_of(ticket_key(made, "grill"))), Role.ARMED) is True
        assert grill.engine.queue_depth.value == 0
        await tap_action(grill, made)
        assert not on_screen(grill, made)
        await synced(grill)
        assert server_items(await server_order(companion.url, made)) == {
            "Burger": ("done", False), "Fries": ("voided", False), "Salad": ("voided", False),
        }


async def test_the_bump_bar_acknowledges_with_its_own_key_and_its_bump_key_clears_a_void_only_ticket(
    companion: LiveServer, tmp_path: Path
) -> None:
    async with screen(companion, tmp_path, "r1-kds-grill-1") as grill:
        plain = await pos_order(companion.url, "402", [("Burger", "grill")])
        made = await pos_order(companion.url, "403", [("Ribs", "grill"), ("Wings", "grill")])
        await until(grill.engine, lambda: on_screen(grill, plain) and on_screen(grill, made))
        await tap_item(grill, made, "Ribs")
        await synced(grill)
        await pos_add(companion.url, made, "Steak")
        await until(grill.engine, lambda: any(i.name == "Steak" for i in grill.screen.ticket(
            ticket_key(made, "grill")).order.order_items))
        grid = grill.window.grid

        await press(grid, Key.Key_Period)  # nothing selected: it only points at the ticket with the change
        assert selected(grill) == ticket_key(made, "grill")
        assert shown_item(grill, made, "Steak").changed_after_send and grill.engine.queue_depth.value == 0
        await press(grid, Key.Key_Period)
        assert not shown_item(grill, made, "Steak").changed_after_send  # at once
        assert shown_item(grill, made, "Steak").status is ItemStatus.new  # seen, not struck
        assert on_screen(grill, made) and selected(grill) == ticket_key(made, "grill")
        await press(grid, Key.Key_Period)  # nothing left to acknowledge: nothing sent
        await synced(grill)
        assert server_items(await server_order(companion.url, made))["Steak"] == ("new", False)

        assert grill.keys is not None
        grill.keys._monotonic = lambda: 100.0  # every press below in the same instant, as on a fast machine
        await press(grid, Key.Key_Return)  # bump it
        assert not on_screen(grill, made)
        await synced(grill)
        ribs = next(i for i in (await server_order(companion.url, made))["order_items"] if i["name"] == "Ribs")
        await pos_void(companion.url, UUID(ribs["id"]))  # a dish already sent is voided: the ticket is back for it
        await until(grill.engine, lambda: on_screen(grill, made))
        assert [t.key for t in grill.screen.model.tickets()] == [ticket_key(plain, "grill"), ticket_key(made, "grill")]
        await press(grid, Key.Key_2)
        assert selected(grill) == ticket_key(made, "grill")
        # Within the bump key's debounce of the last bump, but the cook chose this ticket by its number in between:
        # not a bounce. The bump key does what the zone says: ACKNOWLEDGE.
        await press(grid, Key.Key_Enter)
        assert not on_screen(grill, made)
        await synced(grill)
        assert server_items(await server_order(companion.url, made))["Ribs"] == ("voided", False)
