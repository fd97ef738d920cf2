"""What the screen shows and what a tap means: the glue between the sync engine and the ticket model.

Every tap becomes one intent through `SyncEngine.submit`, which is durable before it returns and never
waits on the network; the cards are redrawn from the local store right after, so the cook sees the
result of a tap in the same frame whether the server is there or not.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Literal
from uuid import UUID

from PySide6.QtCore import QMetaObject, QObject, Signal

from api_client.models import IntentKind, ItemStatus, OrderStatus, OrderWithItems, Priority
from api_client.order_machine import can_strike, is_open, next_held_course
from sync import OutboxEntry
from sync import trace as _trace

from .card_rules import FIRE, RUSH, CardMode, action_state, has_changes
from .engine_bridge import EngineBridge
from .ticket_model import Ticket, TicketModel, ticket_key

log = logging.getLogger(__name__)

RECALL_WINDOW_S = 30 * 60
RELOAD_ALL_OVER = 200  # a burst touching more orders than this reloads the lot: a few queries either way
StatusFilter = Literal["new", "in_progress"]  # a split screen's panes: not started | started (issue 19, item 5)
_STARTED = (ItemStatus.cooking, ItemStatus.done)


def in_progress(ticket: Ticket) -> bool:
    """Some of the ticket's work has started: an item of its station (expo: of the order) is cooking or done."""
    return any(i.status in _STARTED for i in ticket.order.order_items
               if ticket.station is None or i.station == ticket.station)


def sort_key(ticket: Ticket) -> tuple[object, ...]:
    """Rushed first, then oldest first: `sync.engine.tickets.ticket_sort_key`, plus the station for the rails of
    a screen listing several stations (each station's ticket of one order stays side by side). On expo (whole
    orders, `station` None) the orders ready to serve come before all others, so SERVE is never on a later page
    or below the fold (issue 16)."""
    order = ticket.order
    waiting = ticket.station is not None or order.status is not OrderStatus.ready
    return (waiting, order.priority is not Priority.rush, order.created_at, str(order.id), ticket.station or "")


class Screen(QObject):
    """One screen's view of the kitchen: expo (whole orders) or one or more stations."""

    new_tickets = Signal(list)  # [Ticket]: arrived since the last refresh (not on the first load)
    rejections_changed = Signal(list)  # [OutboxEntry]
    refreshed = Signal()
    intent_submitted = Signal(object)  # Intent

    def __init__(
        self,
        bridge: EngineBridge,
        model: TicketModel,
        *,
        expo: bool,
        stations: Iterable[str] = (),
        allow_rush: bool = False,
        status: StatusFilter | None = None,
    ) -> None:
        """`bridge`: the session's one hub for its engine's reports (the screen reads and writes `bridge.engine`).
        `status`: only the tickets not started ("new") or started ("in_progress"), for one pane of a split
        screen; None: every open ticket."""
        super().__init__()
        self.status = status
        self.bridge = bridge
        self.engine = bridge.engine
        self.model = model
        self.expo = expo
        self.stations = tuple(stations)
        self.may_rush = expo or allow_rush  # expo always may; a station only where the kitchen allows it
        # The kitchen's stations as the server lists them (GET /api/v1/stations), once asked: where MOVE may send
        # a ticket (with the stations this screen's store has seen, so the list is there offline too).
        self.known_stations: tuple[str, ...] = ()
        self._rejected_ids: tuple[UUID, ...] = ()
        self._rejections_seen: int | None = None  # the engine's rejections_generation when last asked
        self._listed: tuple[str | None, ...] | None = None  # the stations of the last refresh
        # Until the first catch-up completes, arrivals are what was already there: no chime, no highlight.
        self._announce = bridge.caught_up
        self._listening: QMetaObject.Connection | None = bridge.caught_up_changed.connect(self._caught_up)

    def detach(self) -> None:
        if self._listening is not None:
            QObject.disconnect(self._listening)
            self._listening = None

    def _caught_up(self, live: bool) -> None:
        if live and not self._announce:
            self.refresh()  # whatever the catch-up brought is shown quietly first
            self._announce = True

    # ------------------------------------------------------------ what is shown

    def station_list(self) -> tuple[str | None, ...]:
        """The stations whose tickets this screen lists (None: expo's whole orders)."""
        if self.expo:
            return (None,)
        # No station chosen: every station the kitchen uses gets its own tickets (the empty ones list nothing).
        return self.stations or tuple(self.engine.stations())

    def current_tickets(self, stations: Iterable[str | None] | None = None) -> list[Ticket]:
        tickets = self._shown([Ticket(order, station, fires) for station in (stations or self.station_list())
                               for order, fires in self.engine.open_tickets_timed(station)])
        tickets.sort(key=sort_key)
        return tickets

    def _shown(self, tickets: list[Ticket]) -> list[Ticket]:
        """`tickets` this screen's status filter keeps (all of them without one)."""
        if self.status is None:
            return tickets
        started = self.status == "in_progress"
        return [t for t in tickets if in_progress(t) is started]

    def refresh(self, changed: Collection[UUID] | None = None, *, tapped: bool = False) -> None:
        """Redraw from the store: only the orders in `changed` (the engine says which a change touched; a tap
        touches one), or everything when None. Every listed ticket is reloaded only when it has to be."""
        stations = self.station_list()
        new: list[Ticket] | None = None
        if changed is None or stations != self._listed or len(changed) > RELOAD_ALL_OVER:
            tickets = self.current_tickets(stations)
        else:
            touched = set(changed)
            fresh = self._shown([Ticket(order, station, fires) for station in stations
                                 for order, fires in self.engine.open_tickets_timed(station, touched)])
            # The rows kept are in order already: only the touched orders' rows are found (by bisection) and
            # changed, removed or slotted in; the rest of the rail is not walked.
            keys = [ticket_key(i, station) for i in touched for station in stations]
            new = self.model.update_tickets(keys, fresh, sort_key=sort_key, announce=self._announce)
            if new is None:  # a kept ticket moves (a rush, a recall): the rows kept, the fresh ones slotted in
                # Matched by the cached string id: hashing a UUID is a Python call per row.
                touched_ids = {str(i) for i in touched}
                tickets = [t for t in self.model.tickets() if t.order_id not in touched_ids]
                for ticket in fresh:
                    bisect.insort(tickets, ticket, key=sort_key)
        self._listed = stations
        if new is None:
            new = self.model.set_tickets(tickets, announce=self._announce)
        if _trace.on:
            _trace.mark("model", changed if changed is not None else [t.order.id for t in tickets])
        if new:
            self.new_tickets.emit(new)
        if not tapped:  # a tap adds no rejection: only the server's answer does
            self._check_rejections()
        self.refreshed.emit()

    def _check_rejections(self) -> None:
        generation = self.engine.rejections_generation
        if generation == self._rejections_seen:
            return  # nothing answered or dismissed since: no query on every redraw
        self._rejections_seen = generation
        rejected = self.engine.rejected()
        ids = tuple(e.intent.id for e in rejected)
        if ids != self._rejected_ids:
            self._rejected_ids = ids
            self.rejections_changed.emit(rejected)

    def recently_bumped(self) -> list[tuple[Ticket, datetime]]:
        found = [
            (Ticket(order, station), when)
            for station in self.station_list()
            for order, when in self.engine.recently_bumped(station, RECALL_WINDOW_S)
        ]
        found.sort(key=lambda pair: pair[1], reverse=True)
        return found

    # ------------------------------------------------------------ taps

    def ticket(self, key: str) -> Ticket | None:
        row = self.model.row_of(key)
        return None if row is None else self.model.tickets()[row]

    def action(self, key: str) -> None:
        """A tap on the card's action zone: the first arms it, a second within the window bumps (or serves, or
        on a station ticket with only changes left, acknowledges them)."""
        ticket = self.ticket(key)
        if ticket is None or self._card_action(ticket) is None:
            return  # a grey WAITING / ON HOLD zone: nothing to send, so nothing the server could refuse
        if self.model.arm(key):
            self.bump(key)

    def bump(self, key: str) -> bool:
        """The card's action at once, without arming: the bump bar's bump key (a key press is deliberate where a
        touch may not be, kds_app.input.bump_bar) and a confirmed tap. False when there was nothing to send."""
        ticket = self.ticket(key)
        kind = None if ticket is None else self._card_action(ticket)
        if ticket is None or kind is None:
            return False
        self._submit(kind, ticket.order, station=ticket.station)
        return True

    def _card_action(self, ticket: Ticket) -> IntentKind | None:
        """What the card's action zone sends now. Bumping a ticket acknowledges its changes too (the order
        machine's rule), so a change never keeps a bumped ticket on the rail; with nothing left to bump, the
        zone acknowledges the changes still flagged. A ticket whose every item waits on fire timing fires now
        (start: its items cook from this moment)."""
        if ticket.fires and ticket.fires_in(self.model.waits(ticket)) is not None:
            return IntentKind.start
        if ticket.station is None:
            return IntentKind.serve if action_state(ticket.order, CardMode.EXPO)[0] else None
        if action_state(ticket.order, CardMode.STATION)[0]:
            return IntentKind.bump_ticket
        return IntentKind.ack_change if has_changes(ticket.order) else None

    def acknowledge(self, key: str) -> bool:
        """The bump bar's acknowledge key: every change flagged on the ticket (expo: on the order) is marked seen,
        as tapping each would. False when there was none."""
        ticket = self.ticket(key)
        if ticket is None or not has_changes(ticket.order):
            return False
        self._submit(IntentKind.ack_change, ticket.order, station=ticket.station)
        return True

    def item(self, key: str, item_id: UUID) -> None:
        """A tap on an item: acknowledge a change first, else fire an item waiting on fire timing now (start), else
        strike it, or unstrike a struck one."""
        ticket = self.ticket(key)
        if ticket is None:
            return
        item = next((i for i in ticket.order.order_items if i.id == item_id), None)
        if item is None:
            return
        if item.changed_after_send:
            self._submit(IntentKind.ack_change, ticket.order, item_id=item.id, station=item.station)
        elif item.id in self.model.waits(ticket):
            self._submit(IntentKind.start, ticket.order, item_id=item.id, station=item.station)
        elif item.status is ItemStatus.done:
            self._submit(IntentKind.unbump_item, ticket.order, item_id=item.id, station=item.station)
        elif can_strike(item):
            self._submit(IntentKind.bump_item, ticket.order, item_id=item.id, station=item.station)

    def control(self, key: str, control: str) -> None:
        """A tap on a card control. RUSH toggles the order's priority; FIRE (expo) fires the next held course.
        Both take two taps like bump: the first arms the button, a second within the window sends."""
        ticket = self.ticket(key)
        if ticket is None:
            return
        if control == RUSH:
            if not self.may_rush or not self.model.arm_control(key, RUSH):
                return
            priority = Priority.normal if ticket.order.priority is Priority.rush else Priority.rush
            self._submit(IntentKind.rush, ticket.order, args={"priority": priority.value})
        elif control == FIRE:
            course = next_held_course(ticket.order)
            if not self.expo or course is None or not self.model.arm_control(key, FIRE):
                return
            self._submit(IntentKind.fire, ticket.order, args={"course": course})

    def eighty_six(self, item_name: str, *, available: bool = False) -> None:
        """86 a menu item (or bring it back): on every screen's 86 strip, and on the menu for the POS."""
        intent = self.engine.eighty_six(item_name, available=available)
        self.intent_submitted.emit(intent)

    def menu_names(self) -> list[str]:
        """The names of the items still to cook on this screen's tickets, for the 86 panel."""
        names = {
            i.name.strip(): None
            for t in self.model.tickets()
            for i in t.order.order_items
            if is_open(i)
        }
        return sorted(names, key=str.lower)

    def recall(self, ticket: Ticket) -> None:
        self._submit(IntentKind.recall, ticket.order, station=ticket.station)

    def transfer_choices(self, ticket: Ticket, item_id: UUID | None = None) -> list[str]:
        """The stations a ticket (or one item on it) can move to: the kitchen's, as the server listed them
        (`known_stations`) and as this screen's store has seen them, without the one it is at."""
        here = self._station_of(ticket, item_id)
        every = set(self.known_stations) | set(self.engine.stations()) | set(self.stations)
        return sorted(s for s in every if s != here)

    def transfer(self, ticket: Ticket, to: str, item_id: UUID | None = None) -> None:
        """Move the ticket's open items (expo: the whole order's), or one item, to the station `to` (issue 19,
        item 2): off this rail at once, on the other station's as soon as the server has it, offline or not.
        Moving it back is the same, the other way."""
        station = self._station_of(ticket, item_id)
        self._submit(IntentKind.transfer, ticket.order, item_id=item_id, station=station, args={"to": to})

    @staticmethod
    def _station_of(ticket: Ticket, item_id: UUID | None) -> str | None:
        if item_id is not None:
            return next((i.station for i in ticket.order.order_items if i.id == item_id), ticket.station)
        return ticket.station

    def dismiss(self, entry: OutboxEntry) -> None:
        self.engine.dismiss(entry.intent.id)
        self.refresh()

    def _submit(
        self,
        kind: IntentKind,
        order: OrderWithItems,
        *,
        item_id: UUID | None = None,
        station: str | None = None,
        args: dict[str, object] | None = None,
    ) -> None:
        intent = self.engine.submit(kind, order.id, item_id=item_id, station=station, args=args)
        self.intent_submitted.emit(intent)
        self.refresh({order.id}, tapped=True)
