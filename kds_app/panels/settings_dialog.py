"""The settings dialog: where the screen connects, what it shows, and how. Touch-sized; never modal pop-ups.

Save emits `saved(AppConfig, password | None)` when the input is valid; otherwise the reason is shown in red
inside the dialog and the dialog stays open. When a `checker` is given (the app gives one), a new or changed
connection is checked first (the server answers, the key and the password work): a bad value is never saved.
The password is passed on to sign in; once it worked, the screen keeps it in its data directory
(kds_app.startup.connect, 0600) to sign itself in again if the server refuses its session.

Connecting a screen needs no typed key: "Pair with code" takes the hub's address and the code `kds-backend pair`
printed, and fills the URL, the key and the device sign-in. Stations are ticked from the list the server knows,
never typed; a station it does not know is named in amber, and Save refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
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

from ..media.language import available_languages, native_name, translate
from ..startup.config import FONT_SIZE_RANGE, AppConfig, ConfigError, ServerKind, SplitKind, ViewKind
from ..startup.pin import PIN_LENGTH, PinError, check_new_pin, hash_pin
from ..startup.probe import Checked, Paired, ProbeError, hub_url, pair_with_code, split_pairing_text

__all__ = ["COPIED_LINES", "MIN_CONTROL_HEIGHT", "MIN_FONT_PX", "Checker", "Pairer", "SettingsDialog"]

log = logging.getLogger(__name__)

COPIED_LINES = 500  # what "Copy logs" puts on the clipboard: the last this many lines, after the file's path

MIN_CONTROL_HEIGHT = 56
MIN_FONT_PX = 18
STATION_COLUMNS = 4
K = TypeVar("K", bound=str)

Checker = Callable[[str, str, str | None, str | None], Awaitable[Checked]]
"""(url, anon_key, email, password) -> what the server said; `ProbeError` in words if it cannot be used."""
Pairer = Callable[[str, str], Awaitable[Paired]]
"""(hub URL, code) -> the connection the code stands for; `ProbeError` in words otherwise."""

_SERVERS: tuple[tuple[ServerKind, str], ...] = (
    ("embedded", QT_TRANSLATE_NOOP("Settings", "This screen (built-in server)")),
    ("companion", QT_TRANSLATE_NOOP("Settings", "Kitchen hub / companion")),
    ("supabase", QT_TRANSLATE_NOOP("Settings", "Supabase project")),
)
_VIEWS: tuple[tuple[ViewKind, str], ...] = (
    ("station", QT_TRANSLATE_NOOP("Settings", "Station")),
    ("expo", QT_TRANSLATE_NOOP("Settings", "Expo")),
)
# Radios are round and checkboxes square, drawn big enough to see at arm's length; a disabled field is grey and
# dashed, so it does not look like one waiting to be typed in.
_STYLE = f"""
QWidget {{ font-size: {MIN_FONT_PX}px; }}
QLineEdit, QSpinBox, QPushButton, QCheckBox, QRadioButton {{ min-height: {MIN_CONTROL_HEIGHT}px; }}
QLineEdit, QSpinBox {{ border: 2px solid #9e9e9e; border-radius: 6px; padding: 0 8px; background: #ffffff;
    color: #212121; }}
QLineEdit:focus, QSpinBox:focus {{ border-color: #42a5f5; }}
QLineEdit:disabled, QSpinBox:disabled {{ background: #2a2f38; color: #7b8594; border: 2px dashed #4a5260; }}
QSpinBox::up-button, QSpinBox::down-button {{ width: 44px; }}
QRadioButton, QCheckBox {{ spacing: 12px; padding-right: 16px; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: 28px; height: 28px; border: 3px solid #b0bec5;
    background: #ffffff; }}
QRadioButton::indicator {{ border-radius: 17px; }}
QCheckBox::indicator {{ border-radius: 4px; }}
QRadioButton::indicator:checked {{ background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
    stop:0 #1565c0, stop:0.55 #1565c0, stop:0.62 #ffffff, stop:1 #ffffff); border-color: #42a5f5; }}
QCheckBox::indicator:checked {{ background: #1565c0; border-color: #42a5f5; }}
QRadioButton:disabled, QCheckBox:disabled {{ color: #7b8594; }}
QPushButton {{ padding: 0 24px; border: 2px solid #5c6b82; border-radius: 6px; background: #2b3545;
    color: #e8ecf2; font-weight: bold; }}
QPushButton:default {{ background: #1565c0; color: #ffffff; border-color: #42a5f5; }}
QPushButton:disabled {{ color: #6b7687; background: #1e232b; border: 2px dashed #4a5260; }}
QLabel#section {{ font-size: {MIN_FONT_PX + 2}px; font-weight: bold; color: #90caf9; padding-top: 12px; }}
QLabel#hint {{ color: #9aa5b5; }}
QLabel#error {{ color: #ff5252; font-weight: bold; }}
QLabel#info {{ color: #69f0ae; }}
QLabel#warning {{ color: #ffab40; font-weight: bold; }}
QCheckBox[unknown="true"] {{ color: #ffab40; font-weight: bold; }}
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
    checked = Signal(object)  # a connection check or a pairing finished: its message (str), or a ProbeError

    def __init__(
        self,
        config: AppConfig,
        parent: QWidget | None = None,
        *,
        log_file: Path | None = None,
        known_stations: Sequence[str] | None = None,
        checker: Checker | None = None,
        pairer: Pairer = pair_with_code,
    ) -> None:
        """`log_file`: what Copy logs copies (default: the file the screen logs to, if it does).
        `known_stations`: the stations the server knows (None: not known yet; Test connection asks).
        `checker`: checks a new connection before Save emits it (None: Save does not ask the network)."""
        super().__init__(parent)
        self.config = config
        self.log_file = log_file if log_file is not None else active_log_file()
        self.checker = checker
        self.pairer = pairer
        self.known_stations: tuple[str, ...] | None = tuple(known_stations) if known_stations is not None else None
        self._busy: asyncio.Task[None] | None = None
        self._verified: tuple[str | None, str | None, str | None, str] | None = None  # a connection that worked
        self.setWindowTitle(translate("Settings", "Screen settings"))
        self.setObjectName("settings")
        self.setStyleSheet(_STYLE)

        self.server_buttons, server_row = self._choices("server", _SERVERS, config.server)
        self.server_buttons[config.server].group().buttonToggled.connect(self._update_enabled)

        # Pairing: the hub's address and the code it printed. A pasted "kitchen-hub.local:8000 ABCD-EFGH" fills both.
        self.pair_hub_edit = self._line(_hub_text(config.url), "kitchen-hub.local:8000", "pair_hub")
        self.pair_code_edit = self._line("", "ABCD-EFGH", "pair_code")
        self.pair_code_edit.textChanged.connect(self._code_pasted)
        self.pair_button = QPushButton(translate("Settings", "Pair"))
        self.pair_button.setObjectName("pair")
        self.pair_button.setAutoDefault(False)
        self.pair_button.clicked.connect(self._pair_clicked)
        pair_row = QHBoxLayout()
        pair_row.addWidget(self.pair_hub_edit, 3)
        pair_row.addWidget(self.pair_code_edit, 2)
        pair_row.addWidget(self.pair_button)

        url_hint = translate("Settings", "https://… or http://192.168.1.10:8000")
        self.url_edit = self._line(config.url or "", url_hint, "url")
        key_hint = translate("Settings", "the project's anon (public) key")
        self.anon_key_edit = self._line(config.anon_key or "", key_hint, "anon_key")
        self.email_edit = self._line(config.email or "", "grill@kitchen.example", "email")
        self.password_edit = self._line("", translate("Settings", "only needed to sign in again"), "password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.test_button = QPushButton(translate("Settings", "Test connection"))
        self.test_button.setObjectName("test_connection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self._test_clicked)

        self.view_buttons, view_row = self._choices("view", _VIEWS, config.view)
        # Each language in its own name and script: whoever reads it finds theirs.
        languages = tuple((code, native_name(code)) for code in available_languages())
        self.language_buttons, language_row = self._choices("language", languages, config.language)

        # Stations: one tick box per station the server knows; none ticked is every station.
        self.station_checks: dict[str, QCheckBox] = {}
        self.stations_grid = QGridLayout()
        self.stations_grid.setHorizontalSpacing(8)
        self.stations_hint = QLabel()
        self.stations_hint.setObjectName("hint")
        self.stations_hint.setWordWrap(True)
        self.stations_warning = QLabel()
        self.stations_warning.setObjectName("warning")
        self.stations_warning.setWordWrap(True)
        self.stations_warning.hide()
        stations_box = QVBoxLayout()
        stations_box.addLayout(self.stations_grid)
        stations_box.addWidget(self.stations_warning)
        stations_box.addWidget(self.stations_hint)
        self._fill_stations(config.stations)

        # Split screen (issue 19, item 5): a second pane beside the first, chosen from a list, never typed.
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("split")
        self._fill_split(config.split)

        yellow_s, red_s = config.default_thresholds
        self.yellow_edit = self._line(_minutes(yellow_s), translate("Settings", "minutes"), "yellow")
        self.red_edit = self._line(_minutes(red_s), translate("Settings", "minutes"), "red")
        self.font_size_spin = QSpinBox()
        self.font_size_spin.setObjectName("font_size")
        # Wider than the valid range on purpose: an out-of-range entry is reported, not silently clamped.
        self.font_size_spin.setRange(1, 99)
        self.font_size_spin.setValue(config.font_size)
        self.sound_check = _TouchCheckBox(translate("Settings", "Sound for new tickets"))
        self.sound_check.setObjectName("sound")
        self.sound_check.setChecked(config.sound)

        # The screen's own ESC/POS printer (issue 19 item 3): where its open tickets go on paper when it reaches no
        # server; checked like the file's key when saved.
        self.printer_edit = self._line(config.printer or "", translate("Settings", "none, or 192.168.1.50:9100"),
                                       "printer")
        self.printer_edit.setInputMethodHints(Qt.InputMethodHint.ImhUrlCharactersOnly)

        # The PIN that locks these settings: typed here, kept only as a hash in the config.
        locked = config.settings_pin is not None
        if locked:
            wants = translate("Settings", "a new PIN, or empty to keep it")
        else:
            wants = translate("Settings", "none: anyone may open SETTINGS (4-8 digits)")
        self.pin_edit = self._line("", wants, "pin")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.pin_edit.setMaxLength(PIN_LENGTH[1])
        self.remove_pin_check = _TouchCheckBox(translate("Settings", "Remove the PIN"))
        self.remove_pin_check.setObjectName("remove_pin")
        self.remove_pin_check.setVisible(locked)

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
        self.copy_logs_button = QPushButton(translate("Settings", "Copy logs"))
        self.copy_logs_button.setObjectName("copy_logs")
        self.copy_logs_button.setAutoDefault(False)
        self.copy_logs_button.clicked.connect(self.copy_logs)

        self.save_button = QPushButton(translate("Settings", "Save"))
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        self.cancel_button = QPushButton(translate("Settings", "Cancel"))
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(10)
        form.addRow(_section(translate("Settings", "Connection")))
        form.addRow(translate("Settings", "Server"), server_row)
        form.addRow(translate("Settings", "Pair with code"), pair_row)
        form.addRow("", _hint(translate("Settings", "On the hub: kds-backend pair --restaurant … --station grill. "
                                        "It prints a code for a few minutes; enter the hub's address and the code, "
                                        "or paste both.")))
        form.addRow(translate("Settings", "URL"), self.url_edit)
        form.addRow(translate("Settings", "Anon key"), self.anon_key_edit)
        form.addRow(translate("Settings", "Email"), self.email_edit)
        form.addRow(translate("Settings", "Password"), self.password_edit)
        form.addRow("", self.test_button)
        form.addRow(_section(translate("Settings", "What this screen shows")))
        form.addRow(translate("Settings", "View"), view_row)
        form.addRow(translate("Settings", "Stations"), stations_box)
        form.addRow(translate("Settings", "Split screen"), self.split_combo)
        form.addRow(translate("Settings", "Yellow after (min)"), self.yellow_edit)
        form.addRow(translate("Settings", "Red after (min)"), self.red_edit)
        font_size = translate("Settings", "Font size ({low}-{high})").format(low=FONT_SIZE_RANGE[0],
                                                                              high=FONT_SIZE_RANGE[1])
        form.addRow(font_size, self.font_size_spin)
        form.addRow("", self.sound_check)
        form.addRow(translate("Settings", "Language"), language_row)
        form.addRow("", _hint(translate("Settings", "Save starts the screen again in the language chosen.")))
        form.addRow(translate("Settings", "Own printer"), self.printer_edit)
        form.addRow("", _hint(translate("Settings", "When no server answers for a while, this screen prints its "
                                        "open tickets here.")))
        form.addRow(_section(translate("Settings", "Lock")))
        form.addRow(translate("Settings", "Settings PIN"), self.pin_edit)
        form.addRow("", self.remove_pin_check)
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
        self.fit_to(self.screen().availableGeometry())
        super().showEvent(event)

    def fit_to(self, room: QRect) -> None:
        """As tall as the form wants, but never taller or wider than `room` (the screen it is on); centred on it."""
        fields = self.fields_area.widget().sizeHint()
        chrome = self.sizeHint().height() - self.fields_area.sizeHint().height()
        margins = self.layout().contentsMargins()
        bar = self.fields_area.verticalScrollBar().sizeHint().width()
        width = min(max(fields.width() + bar + margins.left() + margins.right() + 8, 900), room.width() - 16)
        height = min(fields.height() + chrome + 8, room.height() - 40)
        self.resize(width, height)
        self.move(room.x() + (room.width() - width) // 2, room.y() + max(0, (room.height() - 40 - height) // 2))

    # ------------------------------------------------------------ reading the form

    def server(self) -> ServerKind:
        return next(kind for kind, button in self.server_buttons.items() if button.isChecked())

    def view(self) -> ViewKind:
        return next(kind for kind, button in self.view_buttons.items() if button.isChecked())

    def language(self) -> str:
        return next(code for code, button in self.language_buttons.items() if button.isChecked())

    def stations(self) -> tuple[str, ...]:
        """The ticked stations, in the order shown (empty: every station)."""
        return tuple(name for name, box in self.station_checks.items() if box.isChecked())

    def unknown_stations(self) -> tuple[str, ...]:
        """Ticked stations the server does not know (none while its list is not known)."""
        if self.known_stations is None:
            return ()
        return tuple(s for s in self.stations() if s not in self.known_stations)

    def current_config(self) -> AppConfig:
        """The config the form describes; `ConfigError` with a message for the cook/installer otherwise."""
        server = self.server()
        remote = server != "embedded"
        url = self.url_edit.text().strip() or None
        anon_key = self.anon_key_edit.text().strip() or None
        email = self.email_edit.text().strip() or None
        if remote and url is None:
            raise ConfigError(translate("Settings", "Enter the server's URL, or pair with a code"), field="url")
        if remote and anon_key is None:
            raise ConfigError(
                translate("Settings", "Enter the anon key (kds-backend anon-key, or the Supabase project's)"),
                field="anon_key",
            )
        if remote and email is None:
            raise ConfigError(translate("Settings", "Enter the screen's email"), field="email")
        unknown = self.unknown_stations()
        if unknown:
            raise ConfigError(_unknown_text(unknown, self.known_stations or ()), field="stations")
        yellow = _seconds(translate("Settings", "Yellow after"), self.yellow_edit.text())
        red = _seconds(translate("Settings", "Red after"), self.red_edit.text())
        if red <= yellow:
            raise ConfigError(translate("Settings", "Red must come after yellow"), field="default_thresholds")
        settings_pin = self.config.settings_pin
        pin = self.pin_edit.text().strip()
        if self.remove_pin_check.isChecked() and not pin:
            settings_pin = None
        elif pin:
            try:
                check_new_pin(pin)
            except PinError as exc:
                raise ConfigError(str(exc), field="settings_pin") from None
            settings_pin = hash_pin(pin)
        return dataclasses.replace(
            self.config,
            server=server,
            url=url,
            anon_key=anon_key,
            email=email,
            view=self.view(),
            stations=self.stations(),
            default_thresholds=(yellow, red),
            font_size=self.font_size_spin.value(),
            sound=self.sound_check.isChecked(),
            settings_pin=settings_pin,
            language=self.language(),
            split=self.split(),
            printer=self.printer_edit.text().strip() or None,
        )

    def show_error(self, message: str) -> None:
        self.info_label.hide()
        self.error_label.setText(message)
        self.error_label.show()

    def show_info(self, message: str) -> None:
        self.error_label.hide()
        self.info_label.setText(message)
        self.info_label.show()

    def set_known_stations(self, stations: Sequence[str] | None) -> None:
        """The server's stations arrived (or are still unknown): the tick boxes follow, keeping what is ticked."""
        self.known_stations = tuple(stations) if stations is not None else None
        self._fill_stations(self.stations())
        self._fill_split(self.split())

    def split(self) -> SplitKind | tuple[str, ...] | None:
        """The second pane chosen (None: one pane)."""
        return _split_value(self.split_combo.currentData())

    def _fill_split(self, current: SplitKind | tuple[str, ...] | None) -> None:
        """One pane; EXPO beside the stations; NEW | IN PROGRESS; or each known station (and the one chosen, if the
        server does not list it) as the second pane."""
        combo = self.split_combo
        combo.clear()
        combo.addItem(translate("Settings", "One pane"), None)
        combo.addItem(translate("Settings", "Second pane: EXPO"), "expo")
        combo.addItem(translate("Settings", "Two panes: NEW | IN PROGRESS"), "status")
        chosen = [current] if isinstance(current, tuple) else []
        station_sets = [*((s,) for s in self.known_stations or ()), *(c for c in chosen if len(c) > 1 or
                                                                        c[0] not in (self.known_stations or ()))]
        for stations in station_sets:
            names = " · ".join(s.upper() for s in stations)
            combo.addItem(translate("Settings", "Second pane: {stations}").format(stations=names), stations)
        found = [i for i in range(combo.count()) if _split_value(combo.itemData(i)) == current]
        combo.setCurrentIndex(found[0] if found else 0)

    def copy_logs(self) -> str:
        """The log file's path and its last `COPIED_LINES` lines to the clipboard; says so in the dialog. Returns
        what was copied ("" when there is no log to copy)."""
        path = self.log_file
        lines = tail(path, COPIED_LINES) if path is not None else []
        if path is None or not lines:
            self.show_info(translate("Settings", "No log to copy yet") + (f" ({path})" if path is not None else ""))
            return ""
        text = "\n".join([f"# {path} (last {len(lines)} lines)", *lines, ""])
        QGuiApplication.clipboard().setText(text)
        copied = translate("Settings", "Copied the last {n} lines of the log to the clipboard · {path}")
        self.show_info(copied.format(n=len(lines), path=path))
        return text

    # ------------------------------------------------------------ pairing and checking

    async def pair(self) -> Paired | None:
        """Exchange the code for a connection and fill the form with it; None (and the reason shown) if not."""
        try:
            hub_text, code = split_pairing_text(self.pair_code_edit.text())
            hub = hub_url(hub_text or self.pair_hub_edit.text())
        except ProbeError as exc:
            self._report(exc)
            return None
        self.show_info(translate("Settings", "Pairing with {hub} …").format(hub=hub))
        try:
            paired = await self.pairer(hub, code)
        except ProbeError as exc:
            self._report(exc)
            return None
        self.server_buttons["companion"].setChecked(True)
        self.url_edit.setText(paired.url)
        self.anon_key_edit.setText(paired.anon_key)
        self.email_edit.setText(paired.email)
        self.password_edit.setText(paired.password)
        self.pair_code_edit.clear()
        self.known_stations = paired.known_stations
        self._fill_stations(paired.stations)
        if paired.role == "expo":
            self.view_buttons["expo"].setChecked(True)
        self._verified = (paired.url, paired.anon_key, paired.email, paired.password)
        shows = ", ".join(paired.stations) or translate("Settings", "all stations")
        role = translate("Settings", "expo") if paired.role == "expo" else translate("Settings", "kds")
        message = translate("Settings", "Paired: {role} screen of {restaurant} ({stations}). Tap Save to connect.")
        message = message.format(role=role, restaurant=paired.restaurant_id, stations=shows)
        self.show_info(message)
        self.checked.emit(message)
        return paired

    async def test_connection(self) -> Checked | None:
        """Ask the server with what the form says; the answer in the dialog, in words."""
        if self.checker is None:
            return None
        try:
            config = self.current_config()
        except ConfigError as exc:
            self._report(ProbeError(str(exc)))
            return None
        if config.server == "embedded" or config.url is None or config.anon_key is None:
            none = translate("Settings", "The built-in server needs no connection: it runs on this screen")
            self._report(ProbeError(none))
            return None
        password = self.password_edit.text() or None
        self.show_info(translate("Settings", "Checking {url} …").format(url=config.url))
        try:
            result = await self.checker(config.url, config.anon_key, config.email, password)
        except ProbeError as exc:
            self._report(exc)
            return None
        if password is not None:
            self._verified = (config.url, config.anon_key, config.email, password)
        if result.known_stations is not None:
            self.set_known_stations(result.known_stations)
        self.show_info(result.message)
        self.checked.emit(result.message)
        return result

    # ------------------------------------------------------------ internals

    def _report(self, exc: ProbeError) -> None:
        self.show_error(str(exc))
        self.checked.emit(exc)

    def _run(self, work: Awaitable[object]) -> None:
        """One network job at a time, on the app's loop; its buttons wait until it is done."""
        if self._busy is not None and not self._busy.done():
            return
        for button in (self.pair_button, self.test_button, self.save_button):
            button.setEnabled(False)

        async def job() -> None:
            try:
                await work
            finally:
                self._busy = None
                for button in (self.pair_button, self.test_button, self.save_button):
                    button.setEnabled(True)
                self._update_enabled()

        self._busy = asyncio.ensure_future(job())

    def _pair_clicked(self) -> None:
        self._run(self.pair())

    def _test_clicked(self) -> None:
        self._run(self.test_connection())

    def _code_pasted(self, text: str) -> None:
        # A pasted "kitchen-hub.local:8000 ABCD-EFGH": the address goes to its own field.
        with contextlib.suppress(ProbeError):
            hub, code = split_pairing_text(text)
            if hub is not None:
                self.pair_hub_edit.setText(hub)
                self.pair_code_edit.setText(f"{code[:4]}-{code[4:]}")

    def _needs_check(self, config: AppConfig, password: str | None) -> bool:
        if self.checker is None or config.server == "embedded":
            return False
        same = (config.server, config.url, config.anon_key, config.email) == (
            self.config.server, self.config.url, self.config.anon_key, self.config.email,
        )
        if same and password is None:
            return False
        return self._verified != (config.url, config.anon_key, config.email, password or "")

    def _save(self) -> None:
        try:
            config = self.current_config()
        except ConfigError as exc:
            self.show_error(str(exc))
            return
        password = self.password_edit.text() or None
        if self._needs_check(config, password):
            self._run(self._check_then_save(config, password))
            return
        self._emit(config, password)

    async def _check_then_save(self, config: AppConfig, password: str | None) -> None:
        assert self.checker is not None and config.url is not None and config.anon_key is not None
        self.show_info(translate("Settings", "Checking {url} before saving …").format(url=config.url))
        try:
            await self.checker(config.url, config.anon_key, config.email, password)
        except ProbeError as exc:
            log.warning("settings not saved: %s", exc)
            self._report(exc)  # nothing saved: the screen keeps running on what it had
            return
        self._emit(config, password)

    def _emit(self, config: AppConfig, password: str | None) -> None:
        self.error_label.hide()
        self.password_edit.clear()
        self.pin_edit.clear()
        self.saved.emit((config, password))
        self.accept()

    def _update_enabled(self, *_: object) -> None:
        remote = self.server() != "embedded"
        for edit in (self.url_edit, self.anon_key_edit, self.email_edit, self.password_edit):
            edit.setEnabled(remote)
        busy = self._busy is not None and not self._busy.done()
        self.test_button.setEnabled(remote and self.checker is not None and not busy)

    def _fill_stations(self, ticked: Sequence[str]) -> None:
        """Tick boxes for the known stations and any ticked one besides (marked unknown), `ticked` ticked."""
        for box in self.station_checks.values():
            self.stations_grid.removeWidget(box)
            box.deleteLater()
        self.station_checks = {}
        known = self.known_stations or ()
        names = [*known, *(s for s in ticked if s not in known)]
        for index, name in enumerate(names):
            unknown = self.known_stations is not None and name not in known
            box = _TouchCheckBox(translate("Settings", "{name} (unknown)").format(name=name) if unknown else name)
            box.setObjectName(f"station-{name}")
            box.setProperty("unknown", unknown)
            box.setChecked(name in ticked)
            box.toggled.connect(self._stations_changed)
            self.station_checks[name] = box
            self.stations_grid.addWidget(box, index // STATION_COLUMNS, index % STATION_COLUMNS)
            box.show()  # added to a dialog already shown: Qt would show it only on its next pass
        if self.known_stations is None:
            self.stations_hint.setText(translate(
                "Settings",
                "None ticked: every station. Test connection (or pair) to list the stations this server knows.",
            ))
        else:
            self.stations_hint.setText(translate("Settings", "None ticked: every station."))
        self._stations_changed()

    def _stations_changed(self, *_: object) -> None:
        unknown = self.unknown_stations()
        self.stations_warning.setText(_unknown_text(unknown, self.known_stations or ()) if unknown else "")
        self.stations_warning.setVisible(bool(unknown))

    def _choices(
        self, name: str, options: tuple[tuple[K, str], ...], current: K
    ) -> tuple[dict[K, QRadioButton], QHBoxLayout]:
        """One exclusive row of touch radio buttons, `current` checked, keyed by option."""
        group = QButtonGroup(self)
        row = QHBoxLayout()
        buttons: dict[K, QRadioButton] = {}
        for kind, label in options:
            button = _TouchRadioButton(translate("Settings", label))
            button.setObjectName(f"{name}-{kind}")
            button.setChecked(kind == current)
            group.addButton(button)
            buttons[kind] = button
            row.addWidget(button)
        row.addStretch(1)
        return buttons, row

    def _line(self, text: str, placeholder: str, name: str) -> QLineEdit:
        edit = QLineEdit(text)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setInputMethodHints(Qt.InputMethodHint.ImhNoPredictiveText)
        return edit


def _split_value(data: object) -> SplitKind | tuple[str, ...] | None:
    """A split choice's value as the config holds it (Qt may hand a stored tuple back as a list)."""
    if isinstance(data, list | tuple):
        return tuple(str(s) for s in data)
    return "expo" if data == "expo" else "status" if data == "status" else None


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("section")
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _hub_text(url: str | None) -> str:
    return url.split("://", 1)[-1].rstrip("/") if url else ""


def _unknown_text(unknown: Sequence[str], known: Sequence[str]) -> str:
    names = ", ".join(unknown)
    text = translate(
        "Settings", "{names}: not a station this server knows, so this screen would stay empty. Untick it, or route "
        "a category to it on the server. It knows: {known}."
    )
    return text.format(names=names, known=", ".join(known) or translate("Settings", "none"))


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}" if seconds % 60 == 0 else f"{seconds / 60:g}"


def _seconds(name: str, text: str) -> int:
    try:
        minutes = float(text.strip().replace(",", "."))
    except ValueError:
        said = translate("Settings", "{name} must be a number of minutes, not {text}")
        raise ConfigError(said.format(name=name, text=repr(text.strip()))) from None
    if not 0 < minutes <= 24 * 60:
        said = translate("Settings", "{name} must be more than 0 and at most 1440 minutes, not {text}")
        raise ConfigError(said.format(name=name, text=text.strip()))
    return round(minutes * 60)
