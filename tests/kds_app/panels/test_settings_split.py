"""SETTINGS offers the split screen (issue 19, item 5) as a list to choose from, saves it to the config file and
shows it chosen when opened again; a second pane showing a station the first already shows is refused, saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kds_app.panels.settings_dialog import SettingsDialog
from kds_app.startup.config import AppConfig, load_config, save_config

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def opened(qtbot: QtBot, config: AppConfig, emitted: list[Any]) -> SettingsDialog:
    dialog = SettingsDialog(config, known_stations=["grill", "fry", "cold"])
    qtbot.addWidget(dialog)
    dialog.saved.connect(emitted.append)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def choose(dialog: SettingsDialog, text: str) -> None:
    index = dialog.split_combo.findText(text)
    assert index >= 0, [dialog.split_combo.itemText(i) for i in range(dialog.split_combo.count())]
    dialog.split_combo.setCurrentIndex(index)


def test_the_split_is_chosen_from_a_list_saved_and_shown_chosen_again(qtbot: QtBot, tmp_path: Path) -> None:
    emitted: list[Any] = []
    dialog = opened(qtbot, AppConfig(stations=("grill",)), emitted)
    combo = dialog.split_combo
    assert not combo.isEditable(), "never free text"
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "One pane", "Second pane: EXPO", "Two panes: NEW | IN PROGRESS",
        "Second pane: GRILL", "Second pane: FRY", "Second pane: COLD",
    ]
    assert combo.currentText() == "One pane"
    choose(dialog, "Second pane: FRY")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    (config, _password), = emitted
    assert config.split == ("fry",)
    path = tmp_path / "config.json"
    save_config(path, config)
    assert '"split": [\n    "fry"\n  ]' in path.read_text(encoding="utf-8")
    again = opened(qtbot, load_config(path), [])
    assert again.split_combo.currentText() == "Second pane: FRY" and again.split() == ("fry",)


def test_a_second_pane_of_the_first_panes_station_is_refused_saying_why(qtbot: QtBot) -> None:
    emitted: list[Any] = []
    dialog = opened(qtbot, AppConfig(stations=("grill",)), emitted)
    choose(dialog, "Second pane: GRILL")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert emitted == []
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "split: grill is in stations too: each pane shows its own stations"
    choose(dialog, "Two panes: NEW | IN PROGRESS")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [c.split for c, _p in emitted] == ["status"]
