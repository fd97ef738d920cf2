"""Split screen (issue 19, item 5): one display, two panes side by side, each with its own filter and pages.

A pane is a `Screen` (what it lists: stations, expo's whole orders, or only the tickets not started / started)
over the one engine, with its own model and its own `TicketGrid` (its page bar and page). The config's `split`
says what the second pane shows; `pane_filters` turns it into the two filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QFont, QFontMetrics

from ..cards.ticket_grid import TicketGrid
from ..media.language import translate
from ..panels.fitted_label import FittedLabel
from ..startup.config import AppConfig
from ..viewmodel.screen import Screen, StatusFilter

EXPO_NAME = QT_TRANSLATE_NOOP("Pane", "EXPO")
ALL_NAME = QT_TRANSLATE_NOOP("Pane", "ALL STATIONS")
STATUS_NAMES: dict[StatusFilter, str] = {
    "new": QT_TRANSLATE_NOOP("Pane", "NEW"),
    "in_progress": QT_TRANSLATE_NOOP("Pane", "IN PROGRESS"),
}


NAME_MAX_MIN_PX = 110
SEPARATOR = " | "  # between the panes' names in the top bar's title: "GRILL | EXPO"
TITLE_SMALLEST = 0.75  # a split title shrinks its font down to this much of its size before it cuts a name
STACKED_LARGEST = 0.8  # the split title's two names one above the other: a font at most this much of its size
STACKED_SMALLEST = 0.4  # ...and at least this much (then a name is cut with "…")


@dataclass(frozen=True)
class PaneFilter:
    """What one pane lists."""

    expo: bool
    stations: tuple[str, ...] = ()
    status: StatusFilter | None = None

    def name(self) -> str:
        """The pane's name, as its page bar shows it ("GRILL · COLD", "EXPO", "NEW")."""
        if self.status is not None:
            return translate("Pane", STATUS_NAMES[self.status])
        if self.expo:
            return translate("Pane", EXPO_NAME)
        return " · ".join(s.upper() for s in self.stations) or translate("Pane", ALL_NAME)


def pane_filters(config: AppConfig) -> list[PaneFilter]:
    """The panes `config` asks for: one, or two when `split` is set (the config checked that they differ)."""
    first = PaneFilter(expo=config.view == "expo", stations=() if config.view == "expo" else config.stations)
    split = config.split
    if split is None:
        return [first]
    if split == "expo":
        return [first, PaneFilter(expo=True)]
    if split == "status":
        return [PaneFilter(first.expo, first.stations, "new"), PaneFilter(first.expo, first.stations, "in_progress")]
    return [first, PaneFilter(expo=False, stations=tuple(split))]


class Pane:
    """One pane of the window: its screen and its grid; split, its name at the left of its page bar, lit while
    the bump bar's keys act on it."""

    def __init__(self, screen: Screen, grid: TicketGrid, name: str | None = None) -> None:
        self.screen = screen
        self.grid = grid
        self.label: FittedLabel | None = None
        if name is not None:
            self.label = FittedLabel(name)
            self.label.setObjectName("PaneName")
            # a long name ("GRILL · SAUTE") is cut with "…" past NAME_MAX_MIN_PX; the page count never is.
            self.label.setMinimumWidth(min(self.label.sizeHint().width(), NAME_MAX_MIN_PX))
            grid.page_bar.add_name(self.label)
            grid.page_bar.narrow()

    def set_active(self, active: bool) -> None:
        if self.label is None:
            return
        self.label.setProperty("active", active)
        # A dynamic property only restyles after the style is re-applied.
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)


class PanesTitle(FittedLabel):
    """The top bar's title. On a split screen "GRILL | EXPO" on one line when it fits in a font down to
    `TITLE_SMALLEST` of its size; else the two names one above the other in a smaller font, each cut on its own if
    it must be, so both stay readable in the room a crowded 1366-pixel bar leaves (it read "GRILL | …"). One name
    (no split) is drawn as any `FittedLabel`."""

    def names(self) -> list[str]:
        return self.text().split(SEPARATOR)

    def shown_text(self) -> str:
        names = self.names()
        if len(names) < 2:
            return super().shown_text()
        room = self.contentsRect().width()
        if QFontMetrics(self._scaled(TITLE_SMALLEST)).horizontalAdvance(self.text()) <= room:
            return self.text()
        fm = QFontMetrics(self._stacked())
        return "\n".join(fm.elidedText(name, Qt.TextElideMode.ElideRight, room) for name in names)

    def shown_font(self, text: str) -> QFont:
        if len(self.names()) < 2:
            return super().shown_font(text)
        return self._stacked() if "\n" in text else self.shrunk_font(text, TITLE_SMALLEST)

    def _stacked(self) -> QFont:
        """The largest font, from `STACKED_LARGEST` down to `STACKED_SMALLEST` of the label's, in which the names
        fit one above the other: in the label's height, and each in its width if it can."""
        names, room = self.names(), self.contentsRect()
        size = self.font().pointSizeF() * STACKED_LARGEST
        smallest = self.font().pointSizeF() * STACKED_SMALLEST
        font = self._scaled(STACKED_LARGEST)
        while size - 1 >= smallest:
            fm = QFontMetrics(font)
            widest = max(fm.horizontalAdvance(name) for name in names)
            if fm.height() * len(names) <= room.height() and widest <= room.width():
                break
            size -= 1
            font.setPointSizeF(size)
        return font

    def _scaled(self, factor: float) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(1.0, self.font().pointSizeF() * factor))
        return font
