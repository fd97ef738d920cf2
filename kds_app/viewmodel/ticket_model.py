"""The open tickets as one list model: what the grid paints and what taps refer to.

Updates are incremental (rows inserted, removed or changed, never a reset for an ordinary change), so the
view repaints only what changed and keeps its scroll position while tickets arrive and leave. The ticking
age is a `dataChanged` on the age role, not a rebuild.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple
from uuid import UUID

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from api_client.models import ItemStatus, OrderItemPublic, OrderWithItems
from sync import STATION_OPEN_ITEMS as _OPEN_ITEMS
from sync import station_on_hold

from ..media.language import translate

NEW_HIGHLIGHT_S = 4.0  # a new ticket glows this long, then stays calm
ARM_WINDOW_S = 3.0  # the second tap must come within this window to bump

Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    TICKET = Qt.ItemDataRole.UserRole + 1
    AGE_S = Qt.ItemDataRole.UserRole + 2
    HIGHLIGHT = Qt.ItemDataRole.UserRole + 3
    ARMED = Qt.ItemDataRole.UserRole + 4
    KEY = Qt.ItemDataRole.UserRole + 5
    ARMED_CONTROL = Qt.ItemDataRole.UserRole + 20  # the card control (RUSH, FIRE) waiting for its second tap
    SELECTED = Qt.ItemDataRole.UserRole + 6  # the bump bar's cursor (kds_app.input.bump_bar)
    CARD = Qt.ItemDataRole.UserRole + 7  # all a card's painting needs, in one call (`CardState`)


_NO_WAITS: Mapping[UUID, float] = MappingProxyType({})


class CardState(NamedTuple):
    """What the delegate paints a card from: one `data()` call per card instead of one per role (each call
    crosses from C++ into Python, and a repaint after a bump asks it of every card on the screen)."""

    ticket: Ticket
    age_s: float  # on the ticket's clock (`TicketModel.clock_start`); 0 while the ticket is on hold
    highlight: bool
    armed: bool
    armed_control: str | None
    selected: bool
    waits: Mapping[UUID, float] = _NO_WAITS
    """Fire timing (issue 19 item 1): seconds until each of the card's waiting items fires, at this moment."""
    fires_in_s: float | None = None
    """A station's ticket whose every open item waits: seconds until the first fires (shown held, not aged)."""


_CARD_FIELDS = {
    Role.AGE_S: "age_s",
    Role.HIGHLIGHT: "highlight",
    Role.ARMED: "armed",
    Role.ARMED_CONTROL: "armed_control",
    Role.SELECTED: "selected",
}
"""The roles that read one field of a card's state (tests and accessibility ask them one at a time)."""


@dataclass(frozen=True)
class Ticket:
    """An order as one station sees it (`station` None: the whole order, for expo)."""

    order: OrderWithItems
    station: str | None
    fires: Mapping[UUID, datetime] = field(default_factory=dict, hash=False)
    """When each timed item of the whole order fires (`SyncEngine.open_tickets_timed`); empty without prep times."""

    def waits(self, now: datetime) -> dict[UUID, float]:
        """Seconds until each of this ticket's items still waiting at `now` fires (status new, fire time ahead)."""
        if not self.fires:
            return {}
        return {
            i.id: (at - now).total_seconds()
            for i in self.order.order_items
            if i.status is ItemStatus.new and not i.held and (at := self.fires.get(i.id)) is not None and at > now
        }

    def fires_in(self, waits: Mapping[UUID, float]) -> float | None:
        """A station ticket whose every open item waits: seconds until the first fires; else None."""
        if self.station is None or not waits:
            return None
        live = [i.id for i in self.order.order_items if i.status in _OPEN_ITEMS and not i.held]
        if not live or any(item_id not in waits for item_id in live):
            return None
        return min(waits[item_id] for item_id in live)

    @cached_property
    def order_id(self) -> str:
        return str(self.order.id)

    @cached_property
    def key(self) -> str:
        # Cached: every redraw matches hundreds of rows by key, and formatting a UUID is not free.
        return ticket_key(self.order_id, self.station)

    @cached_property
    def on_hold(self) -> bool:
        """A station's ticket whose only items left are held: on the rail, greyed, but not work yet."""
        return self.station is not None and station_on_hold(list(self.order.order_items))


def _timed_start(ticket: Ticket, seen_started: Mapping[UUID, float]) -> float | None:
    """When a station ticket's work went on fire timing's clock (issue 19 item 1), if every open item of it is
    timed: the first fire time (an item fired early by a cook counts from its start). None: the usual clock.

    An item this screen saw fired early counts from when it saw that (`seen_started`): offline, the tap's row
    still has the server's old `updated_at` (the order's time: the age would jump up), and once the server is
    back it has the upload's time (the age would jump down)."""
    if ticket.station is None or not ticket.fires:
        return None
    starts = []
    for item in ticket.order.order_items:
        if item.status not in _OPEN_ITEMS or item.held:
            continue
        at = ticket.fires.get(item.id)
        if at is None:
            return None
        if item.status is ItemStatus.new:
            starts.append(at.timestamp())
        else:
            started = seen_started.get(item.id)
            starts.append(min(at.timestamp(), item.updated_at.timestamp() if started is None else started))
    return min(starts) if starts else None


def ticket_key(order_id: object, station: str | None) -> str:
    return f"{order_id}:{station or '*'}"


class TicketModel(QAbstractListModel):
    def __init__(self, *, clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        super().__init__()
        self._clock = clock
        self._monotonic = monotonic
        self._rows: list[Ticket] = []
        self._by_key: dict[str, Ticket] = {}  # the rows' tickets by key (`update_tickets` finds rows from these)
        self._arrived: dict[str, float] = {}  # key -> monotonic arrival, while highlighted
        self._armed: dict[str, float] = {}  # key -> monotonic deadline of the second tap
        self._armed_controls: dict[str, tuple[str, float]] = {}  # key -> (control, deadline of its second tap)
        self._selected: str | None = None  # a key that left the screen simply matches no row
        # key -> wall time its held course was seen fired, when that made all its work (see `clock_start`).
        # Kept when the ticket leaves, so a recalled ticket keeps its clock; trimmed when it grows large.
        self._fired: dict[str, float] = {}
        # item id -> wall time this screen saw it fired early (started while waiting on fire timing).
        self._started: dict[UUID, float] = {}
        # key -> (ticket, its items with a countdown row): decided when the card is first laid out and again on
        # each tick, so a card's height and its painting agree between ticks (`countdown_items`).
        self._counting: dict[str, tuple[Ticket, frozenset[UUID]]] = {}

    def set_clock(self, clock: Callable[[], float]) -> None:
        """The wall clock ages and fire-timing countdowns are read from (tests and screenshots move time)."""
        self._clock = clock

    # ------------------------------------------------------------ Qt model interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        ticket = self._rows[index.row()]
        if role == Role.TICKET:  # first: every layout asks it of every row (the card's size)
            return ticket
        if role == Role.CARD:
            return self._card(ticket)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{ticket.order.number}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = translate("Card", "Order {number}, {n} items")
            return text.format(number=ticket.order.number, n=len(ticket.order.order_items))
        if role == Role.KEY:
            return ticket.key
        field = _CARD_FIELDS.get(role)
        if field is not None:
            return getattr(self._card(ticket), field)
        return None

    def card(self, row: int) -> CardState:
        """All a card's painting needs for `row`, without a model index (the grid paints from this)."""
        return self._card(self._rows[row])

    def _card(self, ticket: Ticket) -> CardState:
        key = ticket.key
        armed_control = self._armed_controls.get(key)
        now = self._clock()
        waits = ticket.waits(datetime.fromtimestamp(now, UTC)) if ticket.fires else _NO_WAITS
        fires_in = ticket.fires_in(waits)
        return CardState(
            ticket,
            0.0 if ticket.on_hold or fires_in is not None else max(0.0, now - self.clock_start(ticket)),
            key in self._arrived,
            key in self._armed,
            None if armed_control is None else armed_control[0],
            key == self._selected,
            waits,
            fires_in,
        )

    def waits(self, ticket: Ticket) -> dict[UUID, float]:
        """Seconds until each of the ticket's waiting items fires, on this model's clock (what its card shows)."""
        return ticket.waits(datetime.fromtimestamp(self._clock(), UTC))

    def countdown_items(self, ticket: Ticket) -> frozenset[UUID]:
        """The ticket's items whose card has a "FIRES IN" row: those waiting at the last tick (or when the card was
        first laid out). The tick that fires an item drops it (`tick`), so its row goes at once, not at the ticket's
        next change."""
        if not ticket.fires:
            return frozenset()
        known = self._counting.get(ticket.key)
        if known is not None and known[0] is ticket:
            return known[1]
        if len(self._counting) > 2000:  # tickets come and go all service; forget the ones long gone
            self._counting = {t.key: self._counting[t.key] for t in self._rows if t.key in self._counting}
        waiting = frozenset(self.waits(ticket))
        self._counting[ticket.key] = (ticket, waiting)
        return waiting

    def clock_start(self, ticket: Ticket) -> float:
        """When the ticket's age clock started (wall time): when the order came in, or for a station ticket whose
        work is a held course, when this screen saw that course fired. A held ticket's clock does not run: its
        age would otherwise be red the moment it is fired, for minutes it spent waiting on the course before.

        The fire time is what this screen saw (the server has no fire time on the row): a screen started after
        a course was fired counts that course from the order's time, on the safe side (older, not younger)."""
        fired = self._fired.get(ticket.key)
        created = ticket.order.created_at.timestamp()
        timed = _timed_start(ticket, self._started)
        if timed is not None:
            return max(created, timed)
        return created if fired is None else max(created, fired)

    def _note_fire(self, old: Ticket, new: Ticket) -> None:
        """A station ticket whose live work is now only items that were held (a course fired, by expo or by the
        bump that finished the course before) starts its clock now. Work that was already live keeps its age."""
        if new.station is None:
            return  # expo: the whole order, on the order's clock
        before = {i.id: i for i in old.order.order_items}
        if new.fires:
            self._note_fired_early(before, new)
        fired = still_live = False
        for item in new.order.order_items:
            if item.held or item.status not in _OPEN_ITEMS:
                continue
            was = before.get(item.id)
            if was is not None and was.held and was.status in _OPEN_ITEMS:
                fired = True
            else:
                still_live = True
        if fired and not still_live:
            if len(self._fired) > 5000:  # a whole day's tickets: forget the oldest half
                for key in list(self._fired)[:2500]:
                    del self._fired[key]
            self._fired[new.key] = self._clock()

    def _note_fired_early(self, before: Mapping[UUID, OrderItemPublic], new: Ticket) -> None:
        """Items that were waiting on fire timing and are now started: fired early, now (see `_timed_start`)."""
        now = self._clock()
        for item in new.order.order_items:
            was = before.get(item.id)
            at = new.fires.get(item.id)
            if was is None or at is None or item.status is ItemStatus.new or was.status is not ItemStatus.new:
                continue
            if at.timestamp() > now and item.id not in self._started:
                if len(self._started) > 5000:  # a whole day's items: forget the oldest half
                    for item_id in list(self._started)[:2500]:
                        del self._started[item_id]
                self._started[item.id] = now

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ------------------------------------------------------------ updates

    def tickets(self) -> list[Ticket]:
        return list(self._rows)

    def row_of(self, key: str) -> int | None:
        for row, ticket in enumerate(self._rows):
            if ticket.key == key:
                return row
        return None

    def set_tickets(self, tickets: Sequence[Ticket], *, announce: bool = True) -> list[Ticket]:
        """Show exactly `tickets`, in this order; returns the ones that arrived (for the alert).

        With `announce` False (a screen's first catch-up, showing what was already there) arrivals are not
        highlighted and not returned: a screen switched on mid-service must not chime thirty times."""
        wanted = {t.key: t for t in tickets}
        if len(wanted) != len(tickets):
            raise ValueError("duplicate ticket keys")
        # Rows that left, bottom up so the indexes stay valid.
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].key not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                gone = self._rows.pop(row)
                self.endRemoveRows()
                self._arrived.pop(gone.key, None)
                self._armed.pop(gone.key, None)
                self._armed_controls.pop(gone.key, None)
        kept = [t.key for t in self._rows]
        kept_set = set(kept)
        order = [t.key for t in tickets if t.key in kept_set]
        if kept != order:
            # Re-sorted (a rush, a recall with an old time): rare, so a layout change is cheaper than moves.
            self.layoutAboutToBeChanged.emit()
            position = {key: i for i, key in enumerate(t.key for t in tickets)}
            old = list(self._rows)
            self._rows.sort(key=lambda t: position[t.key])
            self._remap_persistent(old)
            self.layoutChanged.emit()
        new: list[Ticket] = []
        now = self._monotonic()
        for row, ticket in enumerate(tickets):
            if row < len(self._rows) and self._rows[row].key == ticket.key:
                if self._rows[row] is not ticket and self._rows[row] != ticket:
                    self._note_fire(self._rows[row], ticket)
                    self._rows[row] = ticket
                    idx = self.index(row)
                    self.dataChanged.emit(idx, idx, [Role.TICKET, Qt.ItemDataRole.DisplayRole])
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, ticket)
            self.endInsertRows()
            if announce:
                new.append(ticket)
                self._arrived[ticket.key] = now
        self._by_key = wanted
        return new

    def update_tickets(
        self, keys: Iterable[str], fresh: Sequence[Ticket], *, sort_key: Callable[[Ticket], Any], announce: bool = True
    ) -> list[Ticket] | None:
        """What `set_tickets` does when only the tickets `keys` may have changed, without walking every row: the
        rows must be in `sort_key` order (the screen's rail) and `fresh` holds what `keys` are now (a key of `keys`
        not in `fresh` leaves). Rows are found by bisection and changed, removed or inserted one by one, with the
        same signals `set_tickets` sends for them. Returns the arrivals, or None, changing nothing, when a kept
        ticket would move (a rush, a recall with an old time: rare), for the caller to use `set_tickets`.

        At 50 orders a second the screen redraws a few orders at a time out of hundreds on the rail: the walk of
        every row was half of `Screen.refresh` at 400 tickets (issue 15)."""
        by_key = self._by_key
        rows = self._rows
        fresh_of = {t.key: t for t in fresh}
        if len(fresh_of) != len(fresh):
            raise ValueError("duplicate ticket keys")
        changed: list[tuple[Ticket, Ticket]] = []
        gone: list[Ticket] = []
        for key in set(keys) | fresh_of.keys():
            old = by_key.get(key)
            if old is None:
                continue
            if self._row_in_order(old, sort_key) is None:
                return None  # the rows are not in `sort_key` order after all: nothing changed, set_tickets does it
            ticket = fresh_of.get(key)
            if ticket is None:
                gone.append(old)
            elif ticket is not old and ticket != old:
                if sort_key(ticket) != sort_key(old):
                    return None
                changed.append((old, ticket))
        for old, ticket in changed:
            row = self._row_of(old, sort_key)
            self._note_fire(old, ticket)
            rows[row] = by_key[ticket.key] = ticket
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Role.TICKET, Qt.ItemDataRole.DisplayRole])
        for old in gone:
            row = self._row_of(old, sort_key)
            self.beginRemoveRows(QModelIndex(), row, row)
            rows.pop(row)
            del by_key[old.key]
            self.endRemoveRows()
            self._arrived.pop(old.key, None)
            self._armed.pop(old.key, None)
            self._armed_controls.pop(old.key, None)
        new: list[Ticket] = []
        now = self._monotonic()
        for ticket in fresh:
            if ticket.key in by_key:
                continue
            row = bisect.bisect_left(rows, sort_key(ticket), key=sort_key)
            self.beginInsertRows(QModelIndex(), row, row)
            rows.insert(row, ticket)
            by_key[ticket.key] = ticket
            self.endInsertRows()
            if announce:
                new.append(ticket)
                self._arrived[ticket.key] = now
        return new

    def _row_in_order(self, ticket: Ticket, sort_key: Callable[[Ticket], Any]) -> int | None:
        """`ticket`'s row, found where it sorts; None if it is not there (the rows are not in `sort_key` order)."""
        row = bisect.bisect_left(self._rows, sort_key(ticket), key=sort_key)
        return row if row < len(self._rows) and self._rows[row].key == ticket.key else None

    def _row_of(self, ticket: Ticket, sort_key: Callable[[Ticket], Any]) -> int:
        row = self._row_in_order(ticket, sort_key)
        assert row is not None, "checked before anything changed"
        return row

    def _remap_persistent(self, old: list[Ticket]) -> None:
        new_row = {t.key: row for row, t in enumerate(self._rows)}
        for index in self.persistentIndexList():
            key = old[index.row()].key
            self.changePersistentIndex(index, self.index(new_row[key]))

    def tick(self) -> None:
        """Once a second: ages move on, highlights and unconfirmed bumps expire."""
        now = self._monotonic()
        for key in [k for k, t in self._arrived.items() if now - t >= NEW_HIGHLIGHT_S]:
            del self._arrived[key]
        for key in [k for k, deadline in self._armed.items() if now >= deadline]:
            del self._armed[key]
        for key in [k for k, (_c, deadline) in self._armed_controls.items() if now >= deadline]:
            del self._armed_controls[key]
        if self._rows:
            self.dataChanged.emit(
                self.index(0),
                self.index(len(self._rows) - 1),
                [Role.AGE_S, Role.HIGHLIGHT, Role.ARMED, Role.ARMED_CONTROL],
            )
        self._drop_fired_countdowns()

    def _drop_fired_countdowns(self) -> None:
        """A card whose item fired since the last tick loses that item's countdown row now: a TICKET change, so
        the grid lays the card out again at its new height (the cards after it move up)."""
        at = datetime.fromtimestamp(self._clock(), UTC)
        for row, ticket in enumerate(self._rows):
            known = self._counting.get(ticket.key) if ticket.fires else None
            if known is None or known[0] is not ticket:
                continue  # not laid out yet (or changed since): its next layout asks `countdown_items`
            waiting = frozenset(ticket.waits(at))
            if waiting != known[1]:
                self._counting[ticket.key] = (ticket, waiting)
                self.dataChanged.emit(self.index(row), self.index(row), [Role.TICKET])

    # ------------------------------------------------------------ the two-tap bump

    def arm(self, key: str) -> bool:
        """First tap on the action zone: arm it. Returns True when this tap is the confirming second one."""
        now = self._monotonic()
        deadline = self._armed.get(key)
        row = self.row_of(key)
        if row is None:
            return False
        if deadline is not None and now < deadline:
            del self._armed[key]
            self._changed(row, Role.ARMED)
            return True
        self._armed[key] = now + ARM_WINDOW_S
        self._changed(row, Role.ARMED)
        return False

    def arm_control(self, key: str, control: str) -> bool:
        """The same two-tap guard for a card control (RUSH, FIRE): True when this tap confirms `control`."""
        now = self._monotonic()
        row = self.row_of(key)
        if row is None:
            return False
        armed = self._armed_controls.get(key)
        if armed is not None and armed[0] == control and now < armed[1]:
            del self._armed_controls[key]
            self._changed(row, Role.ARMED_CONTROL)
            return True
        self._armed_controls[key] = (control, now + ARM_WINDOW_S)
        self._changed(row, Role.ARMED_CONTROL)
        return False

    def is_armed(self, key: str) -> bool:
        deadline = self._armed.get(key)
        return deadline is not None and self._monotonic() < deadline

    def _changed(self, row: int, role: int) -> None:
        idx = self.index(row)
        self.dataChanged.emit(idx, idx, [role])

    # ------------------------------------------------------------ the bump bar's selection

    def selected_key(self) -> str | None:
        """The selected ticket's key, if it is still listed."""
        key = self._selected
        return key if key is not None and self.row_of(key) is not None else None

    def select(self, key: str | None) -> None:
        """Move the selection outline: a dataChanged on the old row and the new one only."""
        old, self._selected = self._selected, key
        for changed in {k for k in (old, key) if k is not None}:
            row = self.row_of(changed)
            if row is not None:
                self._changed(row, Role.SELECTED)
