"""The screen while it cannot connect: why, in words, and what to do (SETTINGS, Try again). What Cancel in the
settings returns to at the first sign-in, instead of the program quitting."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..media.language import translate

__all__ = ["NotConnectedWindow"]


class NotConnectedWindow(QWidget):
    settings_requested = Signal()
    retry_requested = Signal()
    closed = Signal()

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.setWindowTitle(translate("NotConnected", "KDS · not connected"))
        self.setObjectName("NotConnected")
        self.setStyleSheet(
            "#NotConnected { background: #0d0f13; }"
            "#NotConnected QLabel { color: #e8ecf2; font-size: 22px; }"
            "#NotConnected QLabel#title { font-size: 32px; font-weight: bold; color: #ffb74d; }"
            "#NotConnected QPushButton { min-height: 72px; min-width: 220px; font-size: 24px; font-weight: bold;"
            " border-radius: 8px; border: 2px solid #3d4b63; background: #1c2330; color: #e8ecf2; }"
        )
        title = QLabel(translate("NotConnected", "This screen is not connected"))
        title.setObjectName("title")
        self.reason_label = QLabel(reason)
        self.reason_label.setObjectName("reason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton(translate("NotConnected", "SETTINGS"))
        self.settings_button.setObjectName("settings")
        self.settings_button.clicked.connect(self.settings_requested)
        self.retry_button = QPushButton(translate("NotConnected", "Try again"))
        self.retry_button.setObjectName("retry")
        self.retry_button.clicked.connect(self.retry_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.setSpacing(24)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(self.reason_label)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def set_reason(self, reason: str) -> None:
        self.reason_label.setText(reason)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)
