"""The cook's window listens to its session's engine bridge alone (issue 18): with the bridge cut off from the
engine, the signals the test emits itself move the top bar, the offline strip and the 86 strip; and once the
window is deleted, Qt has dropped its connections, so a later signal reaches nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import SIGNAL, QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.windows.app import Session
from sync import ConnectionState
from tests.kds_app.conftest import engine_config


@pytest.fixture
def session(tmp_path: Path, qapp: QApplication) -> Iterator[Session]:
    # Never started: the closed port is never dialled.
    connection = Connection(engine_config("http://127.0.0.1:9", tmp_path, "r1-kds-grill-1", DeviceRole.kds, ("grill",)))
    made = Session.create(AppConfig(view="station", stations=("grill",)), connection, sound=AlertSound(False))
    made.bridge.detach()  # no engine callback from here on: only what the test emits
    yield made
    made.engine.store.close()


def test_the_window_follows_the_signals_of_its_bridge(session: Session) -> None:
    window, bridge = session.window, session.bridge
    window.show()
    assert window.top.connection.text() != "● OFFLINE"
    bridge.queue_depth_changed.emit(2)
    bridge.connection_changed.emit(ConnectionState.OFFLINE)
    assert session.engine.connection_state.value is not ConnectionState.OFFLINE  # not read from the engine
    assert window.top.connection.text() == "● OFFLINE"
    assert window.offline_banner.isVisible() and "2" in window.offline_banner.text()
    bridge.connection_changed.emit(ConnectionState.LIVE)
    assert window.top.connection.text() == "● ONLINE" and not window.offline_banner.isVisible()

    bridge.eighty_sixed_changed.emit(("calamari",))
    assert window.eighty_six_strip.isVisible()
    bridge.sign_in_needed_changed.emit("the password was changed")
    assert window.top.connection.text() == "● SIGNED OUT"
    bridge.sign_in_needed_changed.emit(None)
    assert window.top.connection.text() == "● ONLINE"
    window.detach()
    window.close()


def test_a_deleted_window_is_no_longer_connected_to_the_bridge(session: Session) -> None:
    bridge = session.bridge
    connection, eighty_six = SIGNAL("connection_changed(PyObject)"), SIGNAL("eighty_sixed_changed(PyObject)")
    # The bridge's own record of the last value, and the window.
    assert (bridge.receivers(connection), bridge.receivers(eighty_six)) == (2, 2)
    session.window.deleteLater()  # never detached: only Qt's end of the window cuts it off
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert (bridge.receivers(connection), bridge.receivers(eighty_six)) == (1, 1)
    bridge.connection_changed.emit(ConnectionState.OFFLINE)  # a slot of the deleted window would raise here
    bridge.eighty_sixed_changed.emit(("calamari",))
    assert bridge.connection_state is ConnectionState.OFFLINE
