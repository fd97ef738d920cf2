"""The SETTINGS form driven as an installer does: opened on a config, typed into, its buttons clicked."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kds_app.panels.settings_dialog import SettingsDialog
from kds_app.startup.config import AppConfig


def open_dialog(qtbot: QtBot, config: AppConfig, emitted: list[Any]) -> SettingsDialog:
    """The dialog shown and exposed; what it saves lands in `emitted`."""
    dialog = SettingsDialog(config)
    qtbot.addWidget(dialog)
    dialog.saved.connect(emitted.append)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_into(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def click(qtbot: QtBot, button: QWidget) -> None:
    assert button.isVisible() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
