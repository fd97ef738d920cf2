"""The 86 strip in the top bar says what it can in the room it gets, and never shows a character cut in half
(at 1366x768 with a sync line the bar leaves it a finger's width: it showed a red box with "86⁝", issue 16)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from kds_app.cards.card_layout import TIMES
from kds_app.media import theme
from kds_app.panels.eighty_six_panel import EightySixStrip
from kds_app.startup.config import AppConfig


@pytest.mark.parametrize(
    ("width", "shown"),
    [(900, "86: Calamari, Chicken skewers"), (230, "86: Cal…"), (95, f"86 {TIMES}2")],
)
def test_the_strip_shows_the_list_then_the_list_cut_short_then_the_count(
    qtbot: QtBot, width: int, shown: str
) -> None:
    strip = EightySixStrip()
    qtbot.addWidget(strip)
    strip.setStyleSheet(theme.style_sheet(AppConfig().font_size) + strip.styleSheet())
    strip.set_names(("Calamari", "Chicken skewers"))
    strip.resize(width, 64)
    strip.show()
    qtbot.waitExposed(strip)
    text = strip.shown_text()
    assert text.startswith(shown.rstrip("…")) and text.endswith(shown[-1]), text
    font = strip.shown_font(text)
    assert QFontMetrics(font).horizontalAdvance(text) <= strip.contentsRect().width(), "nothing cut at the edge"
    assert font.pointSizeF() >= 2 * strip.font().pointSizeF() / 3
    assert strip.text() == "86: Calamari, Chicken skewers"  # the whole list is still the label's (screen readers)
