"""Bump bar and keyboard on a cook's window: the thin layer that turns key presses (mapped by
`kds_app.input.key_map`) into the same selection, bumps, recalls and pages a finger makes. A USB bump bar presents
as a keyboard, so one path serves both.

The bump key bumps the selected ticket at once, without the touch zone's arm-then-confirm: pressing a
physical key is already deliberate, and the second tap exists because a splash or a sleeve can touch glass.
What a key cannot tell apart is a bounce or a held key, so auto-repeat is ignored and a second bump within
`BUMP_DEBOUNCE_S` is dropped (after a bump the selection moves to the next ticket, so a bounce would
otherwise bump that one too). A bounce is the bump key again with nothing between: any other key (a number
choosing a ticket, an arrow, acknowledge, recall...) ends the window, so choosing a ticket and bumping it is
never taken for a bounce however quick. With nothing selected, the bump key only selects the first ticket.

The bump key does what the card's action zone says: BUMP (which also acknowledges the ticket's changes), SERVE
on expo, or ACKNOWLEDGE on a ticket that is on the rail only for an added or voided item. The acknowledge key
marks the selected ticket's changes seen without bumping it. The move key opens the station picker for the
selected ticket (issue 19, item 2); while it is open the numbers choose a station and the move key closes it.
On a split screen (issue 19, item 5) the keys act on one pane, lit in its page bar: the pane key switches to the
other, and a touch on a pane makes it the one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent

from ..viewmodel.card_rules import has_changes
from ..viewmodel.ticket_model import TicketModel
from .key_map import SELECT, Action, action_for

if TYPE_CHECKING:
    from ..windows.main_window import MainWindow

BUMP_DEBOUNCE_S = 0.3


class BumpBarKeys(QObject):
    """Key presses on a cook's window (whatever widget has focus) → selection, bumps, recall, pages."""

    def __init__(
        self, window: MainWindow, keymap: Mapping[int, Action], *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(window)
        self.window = window
        self.keymap = dict(keymap)
        self._monotonic = monotonic
        self._last_bump = float("-inf")
        # The grid takes the page keys itself, so it is filtered directly;
        # keys on any other widget that it leaves unhandled travel up to the window and are filtered there.
        window.installEventFilter(self)
        for pane in window.panes:
            pane.grid.installEventFilter(self)
        window.grid.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        action = action_for(self.keymap, event.key(), event.modifiers())
        if action is None:
            return False
        if not event.isAutoRepeat():  # a held key is one press, not a row of bumps
            self.perform(action)
        return True

    # ------------------------------------------------------------ actions

    def perform(self, action: Action) -> None:
        if self.window.picker.isVisible():
            # MOVE's station picker is open: a number chooses the nth station, MOVE again closes it, and no
            # other key acts on a ticket behind it.
            if action in SELECT:
                self.window.picker.choose_nth(SELECT[action])
            elif action is Action.MOVE:
                self.window.move_button.setChecked(False)
            return
        if action is not Action.BUMP:
            # A bouncing contact repeats the bump key and nothing else: after any other key, the next bump
            # is the cook's own (e.g. a ticket back for a void, chosen by its number and bumped at once).
            self._last_bump = float("-inf")
        if action in SELECT:
            self.select_visible(SELECT[action])
        elif action in (Action.PREVIOUS, Action.NEXT):
            self._step(-1 if action is Action.PREVIOUS else 1)
        elif action in (Action.UP, Action.DOWN):
            self._vertical(-1 if action is Action.UP else 1)
        elif action is Action.BUMP:
            self.bump()
        elif action is Action.ACKNOWLEDGE:
            self.acknowledge()
        elif action is Action.RECALL:
            self.recall_last()
        elif action in (Action.PAGE_UP, Action.PAGE_DOWN):
            self.page(-1 if action is Action.PAGE_UP else 1)
        elif action is Action.ALL_DAY:
            self.window.toggle_all_day()
        elif action is Action.MOVE:
            self.move()
        elif action is Action.PANE:
            self.window.switch_pane()

    @property
    def _model(self) -> TicketModel:
        return self.window.active.screen.model

    def visible_keys(self) -> list[str]:
        """Keys of the tickets on the page shown, oldest first (what the numbers count)."""
        return self.window.active.grid.visible_keys()

    def select(self, key: str | None) -> None:
        self._model.select(key)
        if key is not None:
            self.window.active.grid.show_ticket(key)  # turns to its page

    def select_visible(self, n: int) -> None:
        shown = self.visible_keys()
        if 1 <= n <= len(shown):
            self.select(shown[n - 1])

    def _step(self, delta: int) -> None:
        tickets = self._model.tickets()
        if not tickets:
            return
        current = self._model.selected_key()
        if current is None:
            visible = self.visible_keys()
            self.select(visible[0] if visible else tickets[0].key)
            return
        row = self._model.row_of(current)
        assert row is not None
        self.select(tickets[max(0, min(len(tickets) - 1, row + delta))].key)

    def _vertical(self, direction: int) -> None:
        """The card above or below the selected one on the page: the nearest that way, closest across. Past the
        bottom (top) of the page, the first card of the next page (the last of the page before)."""
        current = self._model.selected_key()
        if current is None:
            self._step(1)
            return
        grid = self.window.active.grid
        grid.show_ticket(current)
        here = grid.visual_rect(current)
        candidates: list[tuple[int, int, str]] = []
        for key, rect in grid.page_cards():
            beyond = rect.top() > here.bottom() if direction > 0 else rect.bottom() < here.top()
            if key != current and beyond:
                gap = rect.top() - here.bottom() if direction > 0 else here.top() - rect.bottom()
                candidates.append((gap, abs(rect.center().x() - here.center().x()), key))
        if candidates:
            self.select(min(candidates)[2])
            return
        page = grid.page()
        grid.page_by(direction)
        if grid.page() != page:
            shown = grid.visible_keys()
            self.select(shown[0] if direction > 0 else shown[-1])

    def bump(self) -> None:
        key = self._model.selected_key()
        if key is None:
            self._step(1)  # nothing selected: show what the next press would bump, bump nothing
            return
        now = self._monotonic()
        if now - self._last_bump < BUMP_DEBOUNCE_S:
            return
        row = self._model.row_of(key)
        if not self.window.active.screen.bump(key):
            return
        self._last_bump = now
        # The next ticket slides into the bumped one's place and takes the selection, as on a bump bar.
        tickets = self._model.tickets()
        if tickets and row is not None:
            self.select(tickets[min(row, len(tickets) - 1)].key)
        else:
            self.select(None)

    def acknowledge(self) -> None:
        """The selected ticket's changes are seen. With nothing selected, it selects the first ticket on screen
        with a change (acknowledging nothing): the cook sees which one the next press clears."""
        key = self._model.selected_key()
        if key is None:
            tickets = self._model.tickets()
            changed = [t.key for t in tickets if has_changes(t.order)]
            visible = [k for k in self.visible_keys() if k in changed]
            if changed:
                self.select((visible or changed)[0])
            return
        row = self._model.row_of(key)
        if not self.window.active.screen.acknowledge(key):
            return
        if self._model.row_of(key) is None:  # it was only on the rail for its changes: the next one moves up
            tickets = self._model.tickets()
            self.select(tickets[min(row or 0, len(tickets) - 1)].key if tickets else None)

    def move(self) -> None:
        """MOVE on the selected ticket: the station picker opens, numbered, for the number keys to choose from.
        With nothing selected, it selects the first ticket (moving nothing), as bump does."""
        key = self._model.selected_key()
        if key is None:
            self._step(1)
            return
        self.window.move_button.setChecked(True)
        self.window.pick_station(key)
        if not self.window.picker.isVisible():
            self.window.move_button.setChecked(False)

    def recall_last(self) -> None:
        bumped = self.window.active.screen.recently_bumped()
        if not bumped:
            return
        ticket = bumped[0][0]
        self.window.active.screen.recall(ticket)
        self.select(ticket.key)

    def page(self, direction: int) -> None:
        self.window.active.grid.page_by(direction)
        visible = self.visible_keys()
        if visible and self._model.selected_key() not in visible:
            self._model.select(visible[0])  # the selection never stays on a ticket on another page
