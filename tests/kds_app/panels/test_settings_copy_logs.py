"""SETTINGS' Copy logs: the log file's path and its last lines go to the clipboard, and the dialog says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from kds_app.panels.settings_dialog import COPIED_LINES, MIN_CONTROL_HEIGHT, SettingsDialog
from kds_app.startup.config import AppConfig

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def open_dialog(qtbot: QtBot, log_file: Path) -> SettingsDialog:
    dialog = SettingsDialog(AppConfig(), log_file=log_file)
    qtbot.addWidget(dialog)
    dialog.show()  # never exec(): a modal loop would block the test
    qtbot.waitExposed(dialog)
    return dialog


def test_copy_logs_puts_the_path_and_the_last_lines_on_the_clipboard(qtbot: QtBot, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "kds.jsonl"
    log_file.parent.mkdir()
    # The rotated file holds the older lines: what is copied runs on from it into the current one.
    (tmp_path / "logs" / "kds.jsonl.1").write_text("".join(json.dumps({"n": n}) + "\n" for n in range(400)))
    log_file.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(400, 700)))
    dialog = open_dialog(qtbot, log_file)
    assert dialog.copy_logs_button.isVisible() and dialog.copy_logs_button.height() >= MIN_CONTROL_HEIGHT
    assert dialog.info_label.isHidden()

    qtbot.mouseClick(dialog.copy_logs_button, Qt.MouseButton.LeftButton)

    copied = QGuiApplication.clipboard().text()
    first, *lines = copied.splitlines()
    assert str(log_file) in first
    assert len(lines) == COPIED_LINES
    assert [json.loads(line)["n"] for line in lines] == list(range(700 - COPIED_LINES, 700))
    assert dialog.info_label.isVisible()
    assert f"last {COPIED_LINES} lines" in dialog.info_label.text() and str(log_file) in dialog.info_label.text()
    assert dialog.isVisible(), "copying keeps the settings open"


def test_copy_logs_without_a_log_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    QGuiApplication.clipboard().setText("before")
    dialog = open_dialog(qtbot, tmp_path / "missing.jsonl")
    qtbot.mouseClick(dialog.copy_logs_button, Qt.MouseButton.LeftButton)
    assert dialog.info_label.isVisible() and "No log to copy yet" in dialog.info_label.text()
    assert QGuiApplication.clipboard().text() == "before"
