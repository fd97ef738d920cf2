"""Split screen (issue 19, item 5): one display, two panes side by side, each with its own filter and pages.

A pane is a `Screen` (what it lists: stations, expo's whole orders, or only the tickets not started / started)
over the one engine, with its own model and its own `TicketGrid` (its page bar and page). The config's `split`
says what the second pane shows; `pane_filters` turns it into the two filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP

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
