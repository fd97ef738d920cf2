"""A held course's ticket on a live station screen (issue 16): its age does not count while held, and expo's
FIRE (two taps) starts its clock; against a real companion process, read back from the model and the pixels."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from PySide6.QtCore import QPoint

from kds_app.media import theme
from kds_app.startup.config import DEFAULT_THRESHOLDS
from kds_app.viewmodel.card_rules import FIRE
from kds_app.viewmodel.ticket_model import Role, ticket_key
from tests.conftest import token_for
from tests.helpers.app_controls import layout, near, tap_control
from tests.helpers.app_screens import on_screen, screen, synced
from tests.kds_app.conftest import APIKEY, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

LATE_S = DEFAULT_THRESHOLDS[1]


async def coursed_order(url: str, number: str, sent: datetime) -> UUID:
    """Soup now (course 1, saute); the ribeye held (course 2, grill), with an allergy."""
    body = {"number": number, "table_label": "9", "guests": 2, "created_at": sent.isoformat(), "items": [
        {"name": "Soup", "station": "saute", "course": 1},
        {"name": "Ribeye", "station": "grill", "course": 2, "held": True, "allergens": ["dairy"]},
    ]}
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('pos')}", "Idempotency-Key": str(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return UUID(r.json()["id"])


async def test_a_held_ticket_does_not_age_until_expo_fires_it(companion: LiveServer, tmp_path: Path) -> None:
    async with (
        screen(companion, tmp_path, "r1-kds-grill-1") as grill,
        screen(companion, tmp_path, "r1-expo-1", expo=True, at=1) as expo,
    ):
        made = await coursed_order(companion.url, "T9", datetime.now(UTC) - timedelta(seconds=LATE_S + 120))
        await until(grill.engine, lambda: on_screen(grill, made))
        await until(expo.engine, lambda: on_screen(expo, made, None))
        model = grill.screen.model

        def card_age() -> float:
            return model.data(model.index(model.row_of(ticket_key(made, "grill"))), Role.AGE_S)

        def header_colour() -> object:
            grid = grill.window.grid
            grid.point_of(ticket_key(made, "grill"))  # its page shown
            grid.relayout()
            card = layout(grill, made)
            rect = grid.visual_rect(ticket_key(made, "grill"))
            head = card.header.translated(rect.topLeft())
            return grid.viewport().grab().toImage().pixelColor(QPoint(head.right() - 14, head.bottom() - 6))

        held = layout(grill, made)
        assert held.on_hold and card_age() == 0  # ordered past the red threshold, but it is not work yet
        assert held.allergy is not None and held.allergy.text == "⚠ ALLERGY: DAIRY"
        assert not near(header_colour(), theme.AGE_LATE, 60)

        await tap_control(expo, made, FIRE)
        await tap_control(expo, made, FIRE)
        await synced(expo)
        await until(grill.engine, lambda: not layout(grill, made).on_hold)
        assert card_age() < 5  # its clock started at the fire
        assert near(header_colour(), theme.AGE_OK)
