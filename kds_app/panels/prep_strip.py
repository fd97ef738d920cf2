"""The prep-time strip in the page bar under the cards: today's average and 90th-percentile ticket time per station.

"GRILL  avg 6:40 · p90 11:05 · 42 tickets": the numbers a kitchen manager glances at during service, from the
server's done times (the engine's `prep_times`), so every screen shows the same figures. Read-only: nothing
here is tappable, the strip must never steal a tap meant for a ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel

from api_client.prep_time import PrepSummary

from ..cards.ticket_delegate import format_age
from ..media.language import translate
from .fitted_label import FittedLabel

PrepSource = Callable[[Collection[str] | None], list[PrepSummary]]


def station_text(summary: PrepSummary) -> str:
    if summary.count == 1:
        text = translate("PrepStrip", "{station}  avg {avg} · p90 {p90} · 1 ticket")
    else:
        text = translate("PrepStrip", "{station}  avg {avg} · p90 {p90} · {n} tickets")
    return text.format(
        station=summary.station.upper(),
        avg=format_age(summary.avg_s),
        p90=format_age(summary.p90_s),
        n=summary.count,
    )


def strip_text(figures: Sequence[PrepSummary]) -> str:
    if not figures:
        return translate("PrepStrip", "no tickets finished yet")
    return "     ".join(station_text(f) for f in figures)


class PrepStrip(QFrame):
    """One line: TODAY, then each station's figures (the screen's stations, or all of them on expo)."""

    def __init__(self, source: PrepSource, stations: Collection[str] | None, base_pt: int) -> None:
        super().__init__()
        self.setObjectName("PrepStrip")
        self._source = source
        self._stations = tuple(stations) if stations else None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 0, 16, 0)
        layout.setSpacing(16)
        self.caption = QLabel(translate("PrepStrip", "TODAY"))
        self.caption.setObjectName("PrepCaption")
        self.figures = FittedLabel()
        self.figures.setObjectName("PrepFigures")
        # Expo lists every station on one line: on a narrow screen it is cut at the end with "…", never what
        # decides how wide the window must be.
        self.figures.setMinimumWidth(100)
        layout.addWidget(self.caption)
        layout.addWidget(self.figures, 1)
        # Local style: the shared theme stays untouched. Light grey on the bar colour reads at 2 m without
        # competing with the tickets' age colours (yellow/red are kept for lateness).
        self.setStyleSheet(
            f"#PrepStrip {{ background: #14181d; border: none; }}"
            f"#PrepCaption {{ color: #9aa5b1; font-size: {base_pt - 4}pt; font-weight: bold; }}"
            f"#PrepFigures {{ color: #f5f7fa; font-size: {base_pt}pt; font-weight: bold; }}"
        )

    def refresh(self) -> None:
        self.figures.setText(strip_text(self._source(self._stations)))

    def least_width(self) -> int:
        """TODAY and the shortest cut of the figures worth reading, with the margins and the gap between."""
        layout = self.layout()
        assert layout is not None
        margins = layout.contentsMargins()
        return (
            margins.left()
            + margins.right()
            + layout.spacing()
            + self.caption.sizeHint().width()
            + self.figures.minimumWidth()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        # The page bar gives the strip what its buttons and page count leave (a side panel open at 1366 px leaves
        # little): with less than TODAY and a readable cut of the figures it shows nothing rather than "TOD GRIL",
        # two words cut in half under the MOVE button.
        super().resizeEvent(event)
        fits = event.size().width() >= self.least_width()
        for part in (self.caption, self.figures):
            part.setVisible(fits)
