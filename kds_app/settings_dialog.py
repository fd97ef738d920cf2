"""The settings dialog: where the screen connects, what it shows, and how. Touch-sized; never modal pop-ups.

Save emits `saved(AppConfig, password | None)` when the input is valid; otherwise the reason is shown in red
inside the dialog and the dialog stays open. The password is passed on to sign in; once it worked, the screen
keeps it in its data directory (kds_app.connect, 0600) to sign itself in again if the server refuses its session.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from api_client.logs import active_log_file, tail

from .config import FONT_SIZE_RANGE, AppConfig, ConfigError, ServerKind, ViewKind

__all__ = ["COPIED_LINES", "MIN_CONTROL_HEIGHT", "MIN_FONT_PX", "SettingsDialog"]

COPIED_LINES = 500  # what "Copy logs" puts on the clipboard: the last this many lines, after the file's path

MIN_CONTROL_HEIGHT = 56
MIN_FONT_PX = 18
K = TypeVar("K", bound=str)

_SERVERS: tuple[tuple[ServerKind, str], ...] = (
    ("embedded", "This screen (built-in server)"),
    ("companion", "Companion server"),
    ("supabase", "Supabase project"),
)
_VIEWS: tuple[tuple[ViewKind, str], ...] = (("station", "Station"), ("expo", "Expo"))
_STYLE = f"""
QWidget {{ font-size: {MIN_FONT_PX}px; }}
QLineEdit, QSpinBox, QPushButton, QCheckBox, QRadioButton {{ min-height: {MIN_CONTROL_HEIGHT}px; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: 32px; height: 32px; }}
QPushButton {{ padding: 0 24px; }}
QLabel#error {{ color: #d32f2f; font-weight: bold; }}
QLabel#info {{ color: #2e7d32; }}
"""


class _TouchCheckBox(QCheckBox):
    """A tap anywhere on the control toggles it, not only on its small indicator or its text."""

    def hitButton(self, pos: QPoint) -> bool:
        return self.rect().contains(pos)


class _TouchRadioButton(QRadioButton):
    def hitButton(self, pos: QPoint) -> bool:
        return self.rect().contains(pos)


class SettingsDialog(QDialog):
    saved = Signal(object)  # (AppConfig, str | None)

    def __init__(self, config: AppConfig, parent: QWidget | None = None, *, log_file: Path | None = None) -> None:
        """`log_file`: what Copy logs copies (default: the file the screen logs to, if it does)."""
        super().__init__(parent)
        self.config = config
        self.log_file = log_file if log_file is not None else active_log_file()
        self.setWindowTitle("Screen settings")
        self.setObjectName("settings")
        self.setStyleSheet(_STYLE)

        self.server_buttons, server_row = self._choices("server", _SERVERS, config.server)
        self.server_buttons[config.server].group().buttonToggled.connect(self._update_enabled)

        self.url_edit = self._line(config.url or "", "https://… or http://192.168.1.10:8000", "url")
        self.anon_key_edit = self._line(config.anon_key or "", "the project's anon (public) key", "anon_key")
        self.email_edit = self._line(config.email or "", "grill@kitchen.example", "email")
        self.password_edit = self._line("", "only needed to sign in again", "password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)

        self.view_buttons, view_row = self._choices("view", _VIEWS, config.view)

        self.stations_edit = self._line(", ".join(config.stations), "grill, fry (empty: all stations)", "stations")
        yellow_s, red_s = config.default_thresholds
        self.yellow_edit = self._line(_minutes(yellow_s), "minutes", "yellow")
        self.red_edit = self._line(_minutes(red_s), "minutes", "red")
        self.font_size_spin = QSpinBox()
        self.font_size_spin.setObjectName("font_size")
        # Wider than the valid range on purpose: an out-of-range entry is reported, not silently clamped.
        self.font_size_spin.setRange(1, 99)
        self.font_size_spin.setValue(config.font_size)
        self.sound_check = _TouchCheckBox("Sound for new tickets")
        self.sound_check.setObjectName("sound")
        self.sound_check.setChecked(config.sound)

        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.info_label = QLabel()
        self.info_label.setObjectName("info")
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.hide()

        # For support: the log's path and its last lines, to paste into a message (no file browsing on a kitchen PC).
        self.copy_logs_button = QPushButton("Copy logs")
        self.copy_logs_button.setObjectName("copy_logs")
        self.copy_logs_button.setAutoDefault(False)
        self.copy_logs_button.clicked.connect(self.copy_logs)

        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Server", server_row)
        form.addRow("URL", self.url_edit)
        form.addRow("Anon key", self.anon_key_edit)
        form.addRow("Email", self.email_edit)
        form.addRow("Password", self.password_edit)
        form.addRow("View", view_row)
        form.addRow("Stations", self.stations_edit)
        form.addRow("Yellow after (min)", self.yellow_edit)
        form.addRow("Red after (min)", self.red_edit)
        form.addRow(f"Font size ({FONT_SIZE_RANGE[0]}-{FONT_SIZE_RANGE[1]})", self.font_size_spin)
        form.addRow("", self.sound_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_logs_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        # The fields scroll; the reason (at the top) and Save/Cancel (at the bottom) never do: on a 1366x768 kitchen
        # PC the whole form is taller than the screen, and an installer must always reach Save.
        fields = QWidget()
        fields.setLayout(form)
        self.fields_area = QScrollArea()
        self.fields_area.setWidget(fields)
        self.fields_area.setWidgetResizable(True)
        self.fields_area.setFrameShape(QFrame.Shape.NoFrame)
        self.fields_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.fields_area, 1)
        layout.addLayout(buttons)
        self._update_enabled()

    def showEvent(self, event: QShowEvent) -> None:
        # As tall as the form wants, but never taller than the screen it is on.
        room = self.screen().availableGeometry()
        fields = self.fields_area.widget().sizeHint()
        chrome = self.sizeHint().height() - self.fields_area.sizeHint().height()
        margins = self.layout().contentsMargins()
        bar = self.fields_area.verticalScrollBar().sizeHint().width()
        width = min(fields.width() + bar + margins.left() + margins.right() + 8, room.width())
        self.resize(width, min(fields.height() + chrome + 8, room.height() - 40))
        super().showEvent(event)

    # ------------------------------------------------------------ reading the form

    def server(self) -> ServerKind:
        return next(kind for kind, button in self.server_buttons.items() if button.isChecked())

    def view(self) -> ViewKind:
        return next(kind for kind, button in self.view_buttons.items() if button.isChecked())

    def current_config(self) -> AppConfig:
        """The config the form describes; `ConfigError` with a message for the cook/installer otherwise."""
        server = self.server()
        remote = server != "embedded"
        url = self.url_edit.text().strip() or None
        anon_key = self.anon_key_edit.text().strip() or None
        email = self.email_edit.text().strip() or None
        if remote and url is None:
            raise ConfigError("Enter the server's URL", field="url")
        if remote and anon_key is None:
            raise ConfigError("Enter the anon key (kds-backend anon-key, or the Supabase project's)", field="anon_key")
        if remote and email is None:
            raise ConfigError("Enter the screen's email", field="email")
        stations = tuple(s.strip().lower() for s in self.stations_edit.text().split(",") if s.strip())
        yellow = _seconds("Yellow after", self.yellow_edit.text())
        red = _seconds("Red after", self.red_edit.text())
        if red <= yellow:
            raise ConfigError("Red must come after yellow", field="default_thresholds")
        return dataclasses.replace(
            self.config,
            server=server,
            url=url,
            anon_key=anon_key,
            email=email,
            view=self.view(),
            stations=stations,
            default_thresholds=(yellow, red),
            font_size=self.font_size_spin.value(),
            sound=self.sound_check.isChecked(),
        )

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def copy_logs(self) -> str:
        """The log file's path and its last `COPIED_LINES` lines to the clipboard; says so in the dialog. Returns
        what was copied ("" when there is no log to copy)."""
        path = self.log_file
        lines = tail(path, COPIED_LINES) if path is not None else []
        if path is None or not lines:
            self.info_label.setText("No log to copy yet" + (f" ({path})" if path is not None else ""))
            self.info_label.show()
            return ""
        text = "\n".join([f"# {path} (last {len(lines)} lines)", *lines, ""])
        QGuiApplication.clipboard().setText(text)
        self.info_label.setText(f"Copied the last {len(lines)} lines of the log to the clipboard · {path}")
        self.info_label.show()
        return text

    # ------------------------------------------------------------ internals

    def _save(self) -> None:
        try:
            config = self.current_config()
        except ConfigError as exc:
            self.show_error(str(exc))
            return
        self.error_label.hide()
        password = self.password_edit.text() or None
        self.password_edit.clear()
        self.saved.emit((config, password))
        self.accept()

    def _update_enabled(self, *_: object) -> None:
        remote = self.server() != "embedded"
        for edit in (self.url_edit, self.anon_key_edit, self.email_edit, self.password_edit):
            edit.setEnabled(remote)

    def _choices(
        self, name: str, options: tuple[tuple[K, str], ...], current: K
    ) -> tuple[dict[K, QRadioButton], QHBoxLayout]:
        """One exclusive row of touch radio buttons, `current` checked, keyed by option."""
        group = QButtonGroup(self)
        row = QHBoxLayout()
        buttons: dict[K, QRadioButton] = {}
        for kind, label in options:
            button = _TouchRadioButton(label)
            button.setObjectName(f"{name}-{kind}")
            button.setChecked(kind == current)
            group.addButton(button)
            buttons[kind] = button
            row.addWidget(button)
        return buttons, row

    def _line(self, text: str, placeholder: str, name: str) -> QLineEdit:
        edit = QLineEdit(text)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setInputMethodHints(Qt.InputMethodHint.ImhNoPredictiveText)
        return edit


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}" if seconds % 60 == 0 else f"{seconds / 60:g}"


def _seconds(name: str, text: str) -> int:
    try:
        minutes = float(text.strip().replace(",", "."))
    except ValueError:
        raise ConfigError(f"{name} must be a number of minutes, not {text.strip()!r}") from None
    if not 0 < minutes <= 24 * 60:
        raise ConfigError(f"{name} must be more than 0 and at most 1440 minutes, not {text.strip()}")
    return round(minutes * 60)
