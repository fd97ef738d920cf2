"""A newcomer's first minutes: Cancel at the first sign-in goes back to a screen that says why (not out of the
program); a PIN locks SETTINGS; the empty first screen says what to do next; a windowed start fits the screen it
opens on; the demo's two screens never hang off the glass; a station the server does not know is said."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole
from kds_app.demo.kitchen import side_by_side
from kds_app.media import theme
from kds_app.media.sound import AlertSound
from kds_app.panels.pin_prompt import PinPrompt
from kds_app.panels.settings_dialog import SettingsDialog
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.startup.pin import hash_pin, verify_pin
from kds_app.viewmodel.ticket_model import Ticket
from kds_app.windows.app import WINDOWED, App, Session, fit_to
from tests.kds_app.conftest import TIMEOUT_S, engine_config
from tests.kds_app.factories import order
from tests.live_server import LiveServer, free_port

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def made_session(tmp_path: Path, config: AppConfig, url: str = "http://127.0.0.1:9") -> Session:
    role = DeviceRole.expo if config.view == "expo" else DeviceRole.kds
    connection = Connection(engine_config(url, tmp_path, "r1-screen-1", role, config.stations))
    return Session.create(config, connection, sound=AlertSound(False))


@pytest.fixture
def session(tmp_path: Path, qapp: QApplication) -> Iterator[Session]:
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
    made = made_session(tmp_path, AppConfig(stations=("grill",)))
    yield made
    made.window.detach()
    made.window.close()
    made.engine.store.close()
    qapp.setStyleSheet("")


async def test_cancel_at_the_first_sign_in_returns_to_a_screen_that_says_why(tmp_path: Path) -> None:
    # A first start on a hub with no password typed yet: the screen cannot sign in.
    config = AppConfig(server="companion", url=f"http://127.0.0.1:{free_port()}", anon_key="k", email="g@kitchen.test")
    app = App(config, config_file=tmp_path / "config.json", data_dir=tmp_path / "data")
    running = asyncio.ensure_future(app.run())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await app.not_connected_shown.wait()
        assert app.not_connected is not None and app.not_connected.isVisible()
        assert app.dialog is not None and app.dialog.isVisible()
        reason = app.not_connected.reason_label.text()
        assert "password" in reason and reason == app.dialog.error_label.text()
        app.dialog.cancel_button.click()
        await asyncio.sleep(0)  # one turn of the loop: an app that quits on Cancel would be on its way out now
        assert not running.done() and not app.stopping.is_set(), "Cancel must not quit the program"
        assert app.dialog is None and app.not_connected.isVisible()
        app.not_connected.settings_button.click()  # and SETTINGS is one tap away again
        assert app.dialog is not None and app.dialog.isVisible() and app.dialog.error_label.text() == reason

    finally:
        app.request_stop()
        async with asyncio.timeout(TIMEOUT_S):
            assert await running == 0
    assert app.not_connected is None


def test_a_pin_set_in_settings_is_stored_hashed(qtbot: object, qapp: QApplication) -> None:
    saved: list[object] = []
    dialog = SettingsDialog(AppConfig())
    dialog.saved.connect(saved.append)
    dialog.show()
    dialog.pin_edit.setText("12")
    dialog.save_button.click()
    assert saved == [] and "4 to 8 digits" in dialog.error_label.text()
    dialog.pin_edit.setText("2468")
    dialog.save_button.click()
    (config, _password), = saved
    assert config.settings_pin is not None and "2468" not in config.settings_pin
    assert verify_pin("2468", config.settings_pin) and not verify_pin("1357", config.settings_pin)
    assert AppConfig.from_json(config.to_json()) == config  # survives the file
    dialog.close()


def test_a_pin_locks_settings_until_it_is_typed(tmp_path: Path, qapp: QApplication) -> None:
    config = AppConfig(settings_pin=hash_pin("2468"))
    app = App(config, config_file=tmp_path / "config.json", data_dir=tmp_path / "data")
    prompt = app.open_settings()
    assert isinstance(prompt, PinPrompt) and prompt.isVisible() and app.dialog is None
    for key in "1357":
        prompt.keys[key].click()
    prompt.keys["OK"].click()
    assert app.dialog is None and prompt.error_label.text() == "Wrong PIN. Try again." and prompt.edit.text() == ""
    for key in "2468":
        prompt.keys[key].click()
    prompt.keys["OK"].click()
    assert isinstance(app.dialog, SettingsDialog) and app.dialog.isVisible()
    assert app.dialog.remove_pin_check.isVisible()  # the PIN can be taken off again from there
    app.dialog.close()
    # Cancel on the keypad: no settings, the screen goes on.
    app.dialog = None
    again = app.open_settings()
    assert isinstance(again, PinPrompt)
    again.cancel_button.click()
    assert app.dialog is None


def test_the_first_empty_screen_says_what_to_do_next(session: Session) -> None:
    window = session.window
    window.resize(1366, 768)
    window.show()
    session.show_first_run()
    hint = session.first_run
    assert hint is not None and hint.isVisible()
    text = hint.label.text()
    assert "kds --demo" in text and "POST /api/v1/orders" in text and "SETTINGS" in text and "kds-backend pair" in text
    inside = window.grid.rect()
    assert inside.contains(hint.geometry()), (hint.geometry(), inside)
    session.screen.model.set_tickets([Ticket(order("101"), "grill")], announce=False)
    assert not hint.isVisible()  # the first ticket: the cards, nothing over them
    session.screen.model.set_tickets([], announce=False)
    assert hint.isVisible()


def test_the_first_run_is_the_start_without_a_settings_file(tmp_path: Path) -> None:
    assert App(AppConfig(), config_file=tmp_path / "config.json", data_dir=tmp_path).first_run
    (tmp_path / "config.json").write_text("{}")
    assert not App(AppConfig(), config_file=tmp_path / "config.json", data_dir=tmp_path).first_run


@pytest.mark.parametrize(
    "room",
    [QRect(0, 0, 1366, 768), QRect(0, 0, 1920, 1080), QRect(1920, 0, 1366, 728), QRect(0, 0, 1280, 1024)],
    ids=["1366x768", "1920x1080", "second-screen-right", "1280x1024"],
)
def test_a_windowed_start_fits_the_screen_it_opens_on(room: QRect) -> None:
    placed = fit_to(room, WINDOWED)
    assert room.contains(placed) and placed.width() <= WINDOWED.width() and placed.height() <= WINDOWED.height()
    assert placed.size() == QSize(min(room.width(), 1600), min(room.height(), 900))


@pytest.mark.parametrize("width", [1366, 1920])
def test_the_demo_screens_go_in_tabs_where_half_the_screen_is_too_narrow(session: Session, width: int) -> None:
    need = session.window.minimumSizeHint().width()
    area = QRect(0, 0, width, 1000)
    # Side by side only when each half holds a whole window; else tabs, each page the whole screen.
    assert side_by_side(area, need) == (width // 2 >= need)
    assert side_by_side(QRect(0, 0, 2 * need, 1000), need)


async def test_a_station_the_server_does_not_know_is_said_on_the_screen(
    companion: LiveServer, tmp_path: Path, qapp: QApplication
) -> None:
    session = made_session(tmp_path, AppConfig(stations=("grils",)), url=companion.url)
    try:
        known = await session.ask_stations()
        assert known is not None and "grill" in known and "grils" not in known
        assert session.window.notice.isVisible() or session.window.notice.text()
        text = session.window.notice.text()
        assert text.startswith("GRILS: not a station this server knows") and "grill" in text
    finally:
        session.window.detach()
        session.window.close()
        session.engine.store.close()
