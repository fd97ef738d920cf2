"""The TODAY strip in the page bar gets what the page buttons leave it: never a word cut in half."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from api_client.prep_time import PrepSummary
from kds_app.panels.prep_strip import PrepStrip

GRILL = PrepSummary(station="grill", count=1, avg_s=74.0, p90_s=74.0)


@pytest.mark.parametrize("width", [60, 120, 180, 240, 400, 900])
def test_the_strip_shows_today_whole_or_nothing(qtbot: QtBot, width: int) -> None:
    """With a side panel open at 1366 pixels the page bar left the strip about 120 px and it read "TOD GRIL",
    TODAY and the station cut by the MOVE button; it must show TODAY whole with a readable cut of the figures,
    or nothing."""
    bar = QWidget()  # the page bar: the strip is a child, given a width by its parent, not a window of its own
    qtbot.addWidget(bar)
    bar.resize(1000, 60)
    strip = PrepStrip(lambda _stations: [GRILL], ("grill",), 18)
    strip.setParent(bar)
    strip.refresh()
    strip.setGeometry(0, 0, width, 60)
    bar.show()
    qtbot.waitExposed(bar)
    QApplication.processEvents()  # the strip's own layout, as the next pass of the event loop does it
    caption, figures = strip.caption, strip.figures
    assert caption.isVisible() == figures.isVisible()
    if caption.isVisible():
        assert caption.width() >= caption.sizeHint().width(), "TODAY is whole"
        assert figures.width() >= figures.minimumWidth()
        assert figures.geometry().right() <= strip.contentsRect().right(), "the figures end inside the strip"
        assert figures.shown_text().startswith("GRILL") or figures.shown_text().startswith("GR")
    else:
        assert width < strip.least_width()
    if width >= 400:
        assert caption.isVisible(), "where there is room the figures show"
