"""A bump bar (a keyboard) pressing keys into a live window, and which ticket it has selected."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from kds_app.viewmodel.ticket_model import Role
from kds_app.windows.app import Session

Key = Qt.Key


async def press(widget: QWidget, key: Key, *, auto_repeat: bool = False) -> None:
    """One key press and release, sent from a plain loop callback (outside any task), like `tap`."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def send() -> None:
        try:
            if auto_repeat:  # a key held down: the keyboard repeats the press, flagged as a repeat
                QTest.keyPress(widget, key)
                repeat = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, "", True)
                QApplication.sendEvent(widget, repeat)
                QTest.keyRelease(widget, key)
            else:
                QTest.keyClick(widget, key)
        except BaseException as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)

    asyncio.get_running_loop().call_soon(send)
    await done


def selected(session: Session) -> str | None:
    model = session.screen.model
    keys = [
        model.data(model.index(r), Role.KEY)
        for r in range(model.rowCount())
        if model.data(model.index(r), Role.SELECTED)
    ]
    assert len(keys) <= 1
    return keys[0] if keys else None
