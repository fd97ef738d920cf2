"""SETTINGS' Own printer: the screen's printer address, saved as `printer`, checked like the file's key."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kds_app.startup.config import AppConfig
from tests.helpers.settings_form import click, open_dialog, type_into

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def test_the_own_printer_is_typed_saved_and_cleared(qtbot: QtBot) -> None:
    emitted: list[Any] = []
    dialog = open_dialog(qtbot, AppConfig(offline_print_after_s=120), emitted)
    assert dialog.printer_edit.text() == "" and dialog.printer_edit.isVisible()
    type_into(qtbot, dialog.printer_edit, " 192.168.1.51:9101 ")
    click(qtbot, dialog.save_button)
    assert emitted == [(AppConfig(printer="192.168.1.51:9101", offline_print_after_s=120), None)]

    emitted.clear()
    again = open_dialog(qtbot, AppConfig(printer="p.lan"), emitted)
    assert again.printer_edit.text() == "p.lan"
    type_into(qtbot, again.printer_edit, "")
    click(qtbot, again.save_button)
    assert emitted == [(AppConfig(), None)]


def test_a_bad_printer_address_is_said_and_nothing_is_saved(qtbot: QtBot) -> None:
    emitted: list[Any] = []
    dialog = open_dialog(qtbot, AppConfig(), emitted)
    type_into(qtbot, dialog.printer_edit, "grill printer")
    click(qtbot, dialog.save_button)
    assert emitted == [] and dialog.error_label.isVisible()
    assert "Invalid printer host 'grill printer'" in dialog.error_label.text()
