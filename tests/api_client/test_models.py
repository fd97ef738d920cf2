"""The wire models' compatibility rules: strict about what clients send, lenient about what they read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from api_client.models import OrderIntake, OrderPublic


def _order_row() -> dict:
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "restaurant_id": "r1",
        "number": "A1",
        "source": "pos",
        "type": "dine_in",
        "table_label": None,
        "server_name": None,
        "guests": None,
        "customer_name": None,
        "notes": None,
        "priority": "normal",
        "status": "new",
        "created_at": now,
        "due_at": None,
        "updated_at": now,
        "version": 1,
        "change_seq": 1,
    }


def test_a_screen_reads_rows_that_gained_a_column() -> None:
    row = {**_order_row(), "loyalty_tier": "gold"}
    assert OrderPublic.model_validate(row).number == "A1"


def test_a_typo_in_what_a_client_sends_is_refused() -> None:
    with pytest.raises(ValidationError, match="nmber"):
        OrderIntake.model_validate({"nmber": "A1", "items": [{"name": "Soup"}]})


def test_timestamps_sent_by_clients_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        OrderIntake.model_validate({"number": "A1", "due_at": "2026-11-21T18:30:00", "items": [{"name": "Soup"}]})
