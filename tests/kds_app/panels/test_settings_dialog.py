"""The settings dialog: Save emits the config the form describes, or shows why not and stays open."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kds_app.panels.settings_dialog import MIN_CONTROL_HEIGHT
from kds_app.startup.config import AppConfig
from tests.helpers.settings_form import click, open_dialog, type_into

# The offscreen platform (headless tests) says this for every top-level window it shows; it is not the dialog's.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def emitted() -> list[Any]:
    return []


def test_the_form_starts_from_the_current_config(qtbot: QtBot, emitted: list[Any]) -> None:
    config = AppConfig(stations=("grill", "fry"), default_thresholds=(240, 600), font_size=22, sound=False)
    dialog = open_dialog(qtbot, config, emitted)
    assert dialog.server_buttons["embedded"].isChecked()
    assert not dialog.url_edit.isEnabled()  # nothing to type for the built-in server
    assert dialog.stations() == ("grill", "fry")  # ticked, not typed
    assert all(box.isChecked() for box in dialog.station_checks.values())
    assert (dialog.yellow_edit.text(), dialog.red_edit.text()) == ("4", "10")
    assert dialog.font_size_spin.value() == 22 and not dialog.sound_check.isChecked()
    assert dialog.error_label.isHidden()


def test_save_with_valid_fields_emits_the_config_and_the_password(qtbot: QtBot, emitted: list[Any]) -> None:
    original = AppConfig(thresholds={"grill": (100, 200)})
    dialog = open_dialog(qtbot, original, emitted)
    click(qtbot, dialog.server_buttons["companion"])
    assert dialog.url_edit.isEnabled()
    type_into(qtbot, dialog.url_edit, "http://192.168.1.10:8000")
    type_into(qtbot, dialog.anon_key_edit, "anon-key")
    type_into(qtbot, dialog.email_edit, "grill@kitchen.test")
    type_into(qtbot, dialog.password_edit, "s3cret-pass")
    click(qtbot, dialog.view_buttons["expo"])
    dialog.set_known_stations(("cold", "fry", "grill"))  # what the server says it has
    for station in ("grill", "fry"):
        dialog.fields_area.ensureWidgetVisible(dialog.station_checks[station])
        click(qtbot, dialog.station_checks[station])
    type_into(qtbot, dialog.yellow_edit, "3")
    type_into(qtbot, dialog.red_edit, "7.5")
    dialog.font_size_spin.setValue(30)
    click(qtbot, dialog.sound_check)
    click(qtbot, dialog.save_button)

    assert emitted == [
        (
            AppConfig(
                server="companion",
                url="http://192.168.1.10:8000",
                anon_key="anon-key",
                email="grill@kitchen.test",
                view="expo",
                stations=("fry", "grill"),  # in the server's order
                thresholds={"grill": (100, 200)},  # per-station values are kept
                default_thresholds=(180, 450),
                font_size=30,
                sound=False,
            ),
            "s3cret-pass",
        )
    ]
    assert dialog.password_edit.text() == ""  # not kept around
    assert not dialog.isVisible()


def test_save_without_a_password_passes_none(qtbot: QtBot, emitted: list[Any]) -> None:
    dialog = open_dialog(qtbot, AppConfig(), emitted)
    click(qtbot, dialog.save_button)
    assert emitted == [(AppConfig(), None)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.font_size_spin.setValue(99), "font_size must be 12-40, not 99"),
        (lambda d: d.font_size_spin.setValue(5), "font_size must be 12-40, not 5"),
        (lambda d: d.set_known_stations(("fry",)), "grils: not a station this server knows"),
        (lambda d: d.yellow_edit.setText("soon"), "Yellow after must be a number of minutes, not 'soon'"),
        (lambda d: d.red_edit.setText("2"), "Red must come after yellow"),
        (lambda d: d.server_buttons["supabase"].setChecked(True), "Enter the server's URL"),
    ],
)
def test_invalid_input_shows_the_error_and_emits_nothing(
    qtbot: QtBot, emitted: list[Any], edit: Any, message: str
) -> None:
    # A station typed into an old config file: unknown only once the server's list says so.
    dialog = open_dialog(qtbot, AppConfig(stations=("grils",)), emitted)
    edit(dialog)
    click(qtbot, dialog.save_button)
    assert emitted == []
    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert message in dialog.error_label.text()
    assert dialog.error_label.palette().color(dialog.error_label.foregroundRole()).red() > 200


def test_the_error_goes_once_the_input_is_fixed(qtbot: QtBot, emitted: list[Any]) -> None:
    dialog = open_dialog(qtbot, AppConfig(), emitted)
    dialog.font_size_spin.setValue(99)
    click(qtbot, dialog.save_button)
    assert dialog.error_label.isVisible() and emitted == []
    dialog.font_size_spin.setValue(40)
    click(qtbot, dialog.save_button)
    assert emitted == [(AppConfig(font_size=40), None)]


def test_cancel_emits_nothing(qtbot: QtBot, emitted: list[Any]) -> None:
    dialog = open_dialog(qtbot, AppConfig(), emitted)
    dialog.font_size_spin.setValue(30)
    click(qtbot, dialog.cancel_button)
    assert emitted == [] and not dialog.isVisible()


def test_controls_are_touch_sized(qtbot: QtBot, emitted: list[Any]) -> None:
    dialog = open_dialog(qtbot, AppConfig(server="companion", url="http://x:1", anon_key="k"), emitted)
    controls = [*dialog.findChildren(QLineEdit), *dialog.findChildren(QPushButton), dialog.font_size_spin]
    controls += [*dialog.server_buttons.values(), *dialog.view_buttons.values(), dialog.sound_check]
    for control in controls:
        assert control.height() >= MIN_CONTROL_HEIGHT, control.objectName()
        assert control.font().pixelSize() >= 16 or control.font().pointSizeF() >= 12, control.objectName()


def test_save_and_the_reason_are_on_screen_however_short_the_screen(qtbot: QtBot, emitted: list[Any]) -> None:
    """On a 1366x768 kitchen PC the form is taller than the screen: it scrolls, and Save never leaves the screen
    (seen under a real X server: the installer could not reach Save on the first start)."""
    config = AppConfig(server="companion", url="http://hub:8000", anon_key="k", email="grill@kitchen.test")
    dialog = open_dialog(qtbot, config, emitted)
    dialog.show_error("Sign in with grill@kitchen.test's password to connect this screen")
    room = dialog.screen().availableGeometry()
    assert dialog.frameGeometry().height() <= room.height()
    fields = dialog.fields_area.widget()
    assert fields.sizeHint().height() > dialog.fields_area.viewport().height() or room.height() >= 900
    for widget in (dialog.save_button, dialog.cancel_button, dialog.error_label):
        top_left = widget.mapTo(dialog, widget.rect().topLeft())
        bottom = top_left.y() + widget.height()
        assert widget.isVisible() and top_left.y() >= 0 and bottom <= dialog.height(), widget.objectName()
    dialog.fields_area.ensureWidgetVisible(dialog.sound_check)
    click(qtbot, dialog.sound_check)
    click(qtbot, dialog.save_button)
    assert len(emitted) == 1
