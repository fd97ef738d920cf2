"""A kitchen PC's screen may be 1366 pixels wide (the smallest common KDS panel): the cook's window must fit
it with every strip showing at once (offline, 86, a refused tap, expo's prep figures for every station), or
its right edge, where the buttons and the sync state are, would be off the glass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceRole
from kds_app import theme
from kds_app.app import Session
from kds_app.config import AppConfig
from kds_app.connect import Connection
from kds_app.main_window import offline_text
from kds_app.sound import AlertSound
from tests.kds_app.conftest import engine_config

NARROW_SCREEN_PX = 1366


@pytest.fixture(params=["station", "expo"])
def session(request: pytest.FixtureRequest, tmp_path: Path, qapp: QApplication) -> Iterator[Session]:
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))  # sizes come from the theme, as in the app
    expo = request.param == "expo"
    role, stations = (DeviceRole.expo, ()) if expo else (DeviceRole.kds, ("grill", "fry"))
    # Never started: the closed port is never dialled; only the widgets are under test.
    connection = Connection(engine_config("http://127.0.0.1:9", tmp_path, "r1-screen-1", role, stations))
    made = Session.create(AppConfig(view=request.param, stations=stations), connection, sound=AlertSound(False))
    yield made
    made.window.detach()
    made.window.close()
    made.engine.store.close()
    qapp.setStyleSheet("")


def test_the_window_fits_a_1366_pixel_screen_with_every_strip_showing(session: Session) -> None:
    window = session.window
    window.top.count.setText("48 open · 12 on hold")
    window.top.queue.setText("123 to sync · oldest 12:34")
    window.offline_banner.setText(offline_text(123, 754.0))
    window.offline_banner.setVisible(True)
    window.eighty_six_strip.set_names(("Calamari", "Chicken skewers", "Burrata", "Lemon tart", "Fish & chips"))
    window.prep_strip.figures.setText(
        "     ".join(f"{s}  avg 12:34 · p90 23:45 · 123 tickets" for s in ("GRILL", "FRY", "COLD", "PASTRY", "SAUTE"))
    )
    window.rejection_banner.label.setText("Not done: bump ticket. " + "Nothing left to bump at grill " * 4)
    window.rejection_banner.setVisible(True)
    window.resize(NARROW_SCREEN_PX, 800)
    window.show()
    assert window.minimumSizeHint().width() <= NARROW_SCREEN_PX
    for layout in (window.layout(), window.centralWidget().layout(), window.top.layout()):
        layout.activate()  # laid out now, not on the next pass of the event loop
    bar = window.top
    for button in (bar.eighty_six, bar.all_day, bar.recall, bar.settings):
        right = button.mapTo(window, button.rect().topRight()).x()
        assert right <= NARROW_SCREEN_PX and button.width() >= button.minimumSizeHint().width()
    assert bar.queue.width() >= bar.queue.sizeHint().width()  # the sync state is never cut
