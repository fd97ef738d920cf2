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
        self.title = title = QLabel(translate("NotConnected", "This screen is not connected"))
        title.setObjectName("title")
        self.is_connecting = False  # still signing in (`connecting`), not refused or unreachable
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
        self.is_connecting = False
        self.title.setText(translate("NotConnected", "This screen is not connected"))
        self.reason_label.setText(reason)
        self.retry_button.show()

    def connecting(self, url: str | None) -> None:
        """Still signing in to `url` (None: starting the built-in server): said at once, so a server that takes its
        time to answer never leaves the glass black. SETTINGS stays; there is nothing to try again yet."""
        self.is_connecting = True
        where = url or translate("NotConnected", "the built-in server")
        self.title.setText(translate("NotConnected", "Connecting…"))
        self.reason_label.setText(
            translate(
                "NotConnected",
                "Connecting to {where}. The tickets show as soon as it answers, or from this screen's last sign-in "
                "if it does not.",
            ).format(where=where)
        )
        self.retry_button.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)
