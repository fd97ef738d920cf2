"""Asked before SETTINGS opens when a PIN locks them: a keypad big enough for a finger (kitchen screens have no
keyboard), the digits shown as dots. Never modal: the screen behind keeps syncing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ..media.language import translate
from ..startup.pin import PIN_LENGTH, verify_pin

__all__ = ["PinPrompt"]

KEY_PX = 72
_STYLE = f"""
QWidget {{ font-size: 22px; }}
QPushButton {{ min-width: {KEY_PX}px; min-height: {KEY_PX}px; font-size: 28px; font-weight: bold;
    border: 2px solid #5c6b82; border-radius: 8px; background: #2b3545; color: #e8ecf2; }}
QPushButton#ok {{ background: #1565c0; color: #ffffff; border-color: #42a5f5; }}
QLineEdit {{ min-height: {KEY_PX}px; font-size: 32px; border: 2px solid #9e9e9e; border-radius: 6px;
    background: #ffffff; color: #212121; }}
QLabel#error {{ color: #ff5252; font-weight: bold; }}
"""


class PinPrompt(QDialog):
    unlocked = Signal()

    def __init__(self, pin_hash: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pin_hash = pin_hash
        self.setWindowTitle(translate("PinPrompt", "Settings are locked"))
        self.setObjectName("pin_prompt")
        self.setStyleSheet(_STYLE)
        self.edit = QLineEdit()
        self.edit.setObjectName("pin")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.edit.setMaxLength(PIN_LENGTH[1])
        self.edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.edit.returnPressed.connect(self.submit)
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.hide()
        keys = QGridLayout()
        self.keys: dict[str, QPushButton] = {}
        for index, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]):
            button = QPushButton(translate("PinPrompt", "OK") if key == "OK" else key)
            button.setObjectName({"⌫": "back", "OK": "ok"}.get(key, f"key-{key}"))
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, k=key: self._key(k))
            keys.addWidget(button, index // 3, index % 3)
            self.keys[key] = button
        self.cancel_button = QPushButton(translate("PinPrompt", "Cancel"))
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(translate("PinPrompt", "Enter the PIN to open SETTINGS")))
        layout.addWidget(self.edit)
        layout.addWidget(self.error_label)
        layout.addLayout(keys)
        layout.addWidget(self.cancel_button)

    def submit(self) -> bool:
        """Check what was typed: `unlocked` and closed if it is the PIN; otherwise says so and starts again."""
        if verify_pin(self.edit.text(), self.pin_hash):
            self.error_label.hide()
            self.unlocked.emit()
            self.accept()
            return True
        self.edit.clear()
        self.error_label.setText(translate("PinPrompt", "Wrong PIN. Try again."))
        self.error_label.show()
        return False

    def _key(self, key: str) -> None:
        if key == "OK":
            self.submit()
        elif key == "⌫":
            self.edit.backspace()
        else:
            self.edit.insert(key)
