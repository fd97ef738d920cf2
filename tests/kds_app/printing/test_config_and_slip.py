"""The own printer's settings are checked like every other key, and its slip is the companion's layout with
"OFFLINE COPY" at the foot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api_client.escpos.slip import render_offline_copy, slip_from_order
from kds_app.printing.printed import PrintedTickets, printed_path
from kds_app.startup.config import AppConfig, ConfigError, load_config
from tests.kds_app.factories import order
from tests.kds_backend.printing.escpos_printer import decode


def test_printer_and_offline_print_after_s_load_and_default() -> None:
    assert (AppConfig().printer, AppConfig().offline_print_after_s) == (None, 60)
    loaded = AppConfig.from_json({"printer": "grill-printer.lan", "offline_print_after_s": 5})
    assert (loaded.printer, loaded.offline_print_after_s) == ("grill-printer.lan", 5)
    assert AppConfig.from_json({"printer": "192.168.1.50:9101"}).printer == "192.168.1.50:9101"


@pytest.mark.parametrize(
    ("data", "field", "said"),
    [
        ({"printer": "grill printer"}, "printer", "Invalid printer host 'grill printer'"),
        ({"printer": "10.0.0.9:70000"}, "printer", "Invalid port 70000"),
        ({"printer": "10.0.0.9:abc"}, "printer", 'printer must be a network printer\'s "host" or "host:port"'),
        ({"printer": 9100}, "printer", "printer must be"),
        ({"offline_print_after_s": 4}, "offline_print_after_s", "offline_print_after_s must be 5-3600, not 4"),
        ({"offline_print_after_s": 3601}, "offline_print_after_s", "offline_print_after_s must be 5-3600"),
    ],
)
def test_a_bad_printer_setting_is_refused_by_name(
    tmp_path: Path, data: dict[str, object], field: str, said: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.field == field
    assert said in str(refused.value) and str(path) in str(refused.value)


def test_the_offline_copy_is_the_companions_slip_marked_at_its_foot() -> None:
    ticket = order("42", ("Burger", "grill"), ("Fries", "grill"), modifiers=("no onion",), allergens=("sesame",))
    [slip] = decode(render_offline_copy(slip_from_order("grill", ticket), at=datetime.now(UTC)))
    assert slip.lines[0].text.strip() == "GRILL" and slip.line("#42").bold
    assert "1 x Burger" in slip.text and "1 x Fries" in slip.text and "+ no onion" in slip.text
    assert slip.line("! ALLERGY: sesame").underline
    assert slip.lines[-1].text.startswith("OFFLINE COPY") and slip.lines[-1].bold
    assert "Backup print" not in slip.text


def test_the_printed_record_survives_a_restart_and_forgets_old_tickets(tmp_path: Path) -> None:
    path = printed_path(tmp_path / "grill.sqlite3")
    assert path.parent == tmp_path
    ticket = order("7")
    record = PrintedTickets(path, now=1000.0)
    record.add("k1", [str(ticket.order_items[0].id)], now=1000.0)
    again = PrintedTickets(path, now=2000.0)
    assert "k1" in again and again.items() == {ticket.order_items[0].id}
    assert "k1" not in PrintedTickets(path, now=1000.0 + 3 * 24 * 3600)  # days later: long gone from the rail
