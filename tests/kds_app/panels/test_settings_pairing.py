"""Setting a screen up from its settings, against a live companion: pairing with a short code fills the URL, the
key and the sign-in and ticks the paired stations from the server's list; Test connection and Save say in words
what is wrong (a hub that is off, a wrong password), and a connection that does not work is never saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from kds_app.panels.settings_dialog import SettingsDialog
from kds_app.startup.config import AppConfig
from kds_app.startup.probe import ProbeError, check_connection, hub_url, split_pairing_text
from kds_backend.auth.pairing import create_code, format_code
from kds_backend.db.engine import make_engine
from kds_backend.db.writer import write_transaction
from tests.kds_app.conftest import signal_emitted
from tests.live_server import LiveServer, free_port

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def pairing_code(server: LiveServer, stations: list[str], role: str = "kds") -> str:
    engine = make_engine(server.database_url)
    try:
        with write_transaction(engine) as w:
            code = create_code(
                w.conn, "r1", role=role, stations=stations, name="grill screen", now=datetime.now(UTC),
                valid_for=timedelta(minutes=10),
            )
    finally:
        engine.dispose()
    return format_code(code)


def dialog_for(config: AppConfig, saved: list[Any]) -> SettingsDialog:
    dialog = SettingsDialog(config, checker=check_connection)
    dialog.saved.connect(saved.append)
    dialog.show()
    return dialog


async def test_pair_with_a_pasted_code_then_save_connects_without_typing_a_key(
    companion: LiveServer, qapp: QApplication
) -> None:
    saved: list[Any] = []
    dialog = dialog_for(AppConfig(), saved)
    try:
        hub = companion.url.removeprefix("http://")
        # Pasted as the hub's terminal shows it: the address goes to its own field, the code stays.
        dialog.pair_code_edit.setText(f"{hub} {pairing_code(companion, ['grill']).lower()}")
        assert dialog.pair_hub_edit.text() == hub
        dialog.pair_button.click()
        outcome, = await signal_emitted(dialog.checked)
        assert isinstance(outcome, str) and outcome.startswith("Paired: kds screen of r1 (grill)"), outcome
        assert dialog.server() == "companion" and dialog.url_edit.text() == companion.url
        assert dialog.anon_key_edit.text().count(".") == 2  # a JWT, nobody typed it
        assert dialog.email_edit.text().endswith("@r1.paired") and dialog.password_edit.text()
        # Stations from the server's list, the paired one ticked; none typed.
        assert dialog.stations() == ("grill",)
        assert {"fry", "cold", "kitchen"} <= set(dialog.station_checks)
        assert dialog.stations_warning.isHidden()

        dialog.save_button.click()  # checked already by the pairing: saved at once
        config, password = saved[0]
        assert (config.server, config.url, config.stations) == ("companion", companion.url, ("grill",))
        assert password and config.email.endswith("@r1.paired")
    finally:
        dialog.close()

    # A wrong code (reuse and expiry: tests/kds_backend/test_pairing.py): refused in words, nothing filled.
    again = dialog_for(AppConfig(), [])
    try:
        again.pair_hub_edit.setText(companion.url)
        again.pair_code_edit.setText("ZZZZ-ZZZZ")
        again.pair_button.click()
        refused, = await signal_emitted(again.checked)
        assert isinstance(refused, ProbeError) and "No such pairing code" in str(refused)
        assert again.error_label.isVisible() and again.url_edit.text() == ""
    finally:
        again.close()


async def test_a_connection_that_does_not_work_is_said_in_words_and_never_saved(
    companion: LiveServer, qapp: QApplication
) -> None:
    dark = f"127.0.0.1:{free_port()}"  # nothing listens there: a hub that is off
    saved: list[Any] = []
    start = AppConfig(server="companion", url=companion.url, anon_key="k", email="grill@kitchen.test")
    dialog = dialog_for(start, saved)
    try:
        dialog.url_edit.setText(f"http://{dark}")
        dialog.password_edit.setText("whatever-it-is")
        dialog.save_button.click()
        failed, = await signal_emitted(dialog.checked)
        assert str(failed) == f"Can't reach {dark}: is the hub on?"
        assert dialog.error_label.text() == str(failed) and dialog.isVisible()
        assert saved == []  # the bad address was not saved

        # The hub's address, but a key and a password that are not its own: the refusal, in words.
        dialog.url_edit.setText(companion.url)
        dialog.test_button.click()
        refused, = await signal_emitted(dialog.checked)
        assert isinstance(refused, ProbeError) and "refused" in str(refused), refused
        assert saved == []
    finally:
        dialog.close()


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("kitchen-hub.local:8000", "http://kitchen-hub.local:8000"),
        ("192.168.1.10", "http://192.168.1.10:8000"),
        ("https://kds.example.com/", "https://kds.example.com"),
    ],
)
def test_a_hub_address_as_people_type_it(typed: str, url: str) -> None:
    assert hub_url(typed) == url


def test_a_pasted_pairing_line_is_split_and_a_bad_code_named() -> None:
    assert split_pairing_text("kitchen-hub.local:8000 abcd-efgh") == ("kitchen-hub.local:8000", "ABCDEFGH")
    assert split_pairing_text("ABCDEFGH") == (None, "ABCDEFGH")
    with pytest.raises(ProbeError, match="8 letters and digits"):
        split_pairing_text("1234")
