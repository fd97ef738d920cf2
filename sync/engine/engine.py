"""`SyncEngine`: one screen's sync, wired from the sans-I/O parts. Qt-free asyncio.

One driver task owns the catch-up machine: connection states, realtime pushes, REST answers and ticks all reach
it through one queue, so the machine sees them in the order they happened and is never touched concurrently.
A batch's store writes go through the store writer (`sync/store/writer.py`: one connection kept open; on a thread
of its own with `EngineConfig.store_thread`); the driver awaits each commit before it handles the next batch or
announces what changed.
A reader task carries out the REST reads one at a time; the uploader drains the outbox on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from api_client.business_day import DEFAULT_DAY_END_HOUR, day_start, local_zone
from api_client.client import KdsApiClient
from api_client.errors import ApiError
from api_client.hub_link import HUB_UPSTREAM_EVENT, UpstreamLink
from api_client.late_rejection import LATE_REJECTION_EVENT
from api_client.listeners import Listeners
from api_client.models import DeviceRole, Intent, IntentKind, OrderWithItems, RecipePublic
from api_client.prep_time import PrepSummary
from api_client.token_provider import TokenProvider
from sync import trace as _trace
from sync.readpath.catchup import Action, Apply, CatchUp, FetchPage, FetchSnapshot, Live, Resync
from sync.readpath.coalesce import Coalescer
from sync.readpath.commit_groups import CommitGroups, apply_order
from sync.readpath.merge import DELETIONS
from sync.readpath.whole_tickets import Stored, new_tickets_whole, whole
from sync.realtime.changes import RawChange
from sync.realtime.channels import RealtimeMode, sync_channel
from sync.realtime.connection import ChangeEvent, ConnectionState, Event, HintEvent, LiveAgain, RealtimeConnection
from sync.realtime.observable import Observable
from sync.store import LocalStore, outbox_rows, read_rows, server_rows
from sync.store.outbox_rows import OutboxEntry
from sync.store.writer import StoreWriter

from .display_cache import DisplayCache
from .hub_link import HubLinkWatch
from .inbox import Inbox
from .late_rejections import LateRejections
from .menu import MenuLine, eighty_sixed, shown_menu, touches_menu
from .outbox import Outbox
from .prep_times import prep_times
from .reads import read_page, read_snapshot
from .recipes import TABLE as RECIPES
from .recipes import RecipeBook, load_recipes, read_recipes, recipe_book, replace_recipes
from .retention import Retention, check_retention
from .tickets import known_stations, open_tickets, open_tickets_timed, recently_bumped
from .uploader import IntentSender, Uploader

log = logging.getLogger(__name__)

SYNC_TABLES = ("orders", "order_items", "menu_availability", "recipes")
_MAX_BATCH = 1000  # inputs handled (and written) together at most: bounds one transaction's length


@dataclass(frozen=True)
class EngineConfig:
    """Everything a screen needs; the same for the companion and for a Supabase project."""

    url: str
    anon_key: str
    restaurant_id: str
    device_id: str
    role: DeviceRole
    token_provider: TokenProvider
    data_path: Path
    stations: tuple[str, ...] = ()
    safety_interval_s: float = 60.0
    # Change notifications: at once (0), or at most once per `coalesce_s`. Listeners run synchronously (the app
    # redraws in them), and the driver takes whatever arrived meanwhile as one batch, so a burst (a catch-up page,
    # a POS batch) is one redraw anyway. A 16 ms window made a ticket wait up to 16 ms behind a change just shown:
    # at 50 orders/s end to end, p50 13-15 ms with it, 7-8 ms without, for 0-15 % more CPU (bench/RESULTS.md, e2e
    # 2026-12-07).
    coalesce_s: float = 0.0
    # Frames of one commit (an order and its items) are held together this long after the last one, at most
    # `group_max_hold_s` from the first: tickets are applied and painted whole (sync/readpath/commit_groups.py).
    # A commit's frames usually arrive within 0.5 ms of each other on a LAN (bench/RESULTS.md, e2e).
    group_hold_s: float = 0.002
    group_max_hold_s: float = 0.05
    # ...and, whatever the timing, until every order in the commit has the items its `item_count` says (a server
    # preempted between two frame writes), at most this long: then applied as it is, and a catch-up repairs it.
    group_wait_s: float = 2.0
    offline_after_s: float = 5.0
    # A server that vanishes without closing the socket (a pulled cable, a dead switch) is noticed when a
    # heartbeat goes unanswered for a whole interval: at most 2 * heartbeat_s. Supabase's clients use 25 s.
    heartbeat_s: float = 25.0
    # Finished orders older than this leave the screen's store (the server keeps the history); checked hourly.
    retention_days: float = 2.0
    retention_check_s: float = 3600.0
    retention_first_s: float = 60.0  # the first round waits this long: start-up is for showing tickets
    # True: frames and pages are written on a thread of their own (`StoreWriter`), off the loop that reads the
    # socket and paints. Off by default, measured (bench/RESULTS.md, 2026-12-07): the hand-off cost the process
    # 0.3-0.5 ms of CPU per batch to save the loop ~0.5 ms, and the GIL lets the two threads overlap only in SQLite's
    # own calls; the CPU is what a 2-core kitchen PC runs out of. Either way the writer keeps one connection open.
    store_thread: bool = False
    # Where row changes come from (sync/realtime/channels.py): `postgres_changes`, or `broadcast`, the restaurant's
    # private Broadcast from Database topic (Supabase's advice at scale; needs the migration's trigger there).
    realtime: RealtimeMode = "postgres_changes"
    # No server heartbeat (api_client/server_heartbeat.py) for this long while the socket looks live: the data path
    # is stuck; the screen says so, catches up over REST and reconnects (sync/realtime/watchdog.py).
    watchdog_s: float = 10.0

    def __post_init__(self) -> None:
        check_retention(self.retention_days, self.retention_check_s)


def _apply_rank(event: ChangeEvent) -> int:
    change = event.change
    return 1 if isinstance(change, RawChange) else apply_order(change.table, change.type)


def _runs(applies: list[Apply]) -> list[list[Apply]]:
    """Consecutive applies merged into runs that start at a reset (a snapshot) or at the first: each run's
    changes are applied by one call, which reads what they need from the file in a few queries."""
    runs: list[list[Apply]] = []
    for apply in applies:
        if apply.reset or not runs:
            runs.append([apply])
        else:
            runs[-1].append(apply)
    return runs


@dataclass(frozen=True, slots=True)
class _Written:
    """What one batch's transaction changed, handed back from the writer's thread to the loop."""

    changed: set[UUID]
    by_reads: int  # orders the REST reads (pages, snapshots) changed, for the catch-up cycle's log line
    orphaned: bool  # an item was pushed before its order: only a catch-up can place it


def _write_applies(conn: sa.Connection, applies: list[Apply]) -> _Written:
    """Every write of a batch, in order, in the caller's transaction (on the writer's thread: no engine state)."""
    changed: set[UUID] = set()
    by_reads = 0
    orphaned = False
    for run in _runs(applies):
        applied = read_rows.apply_batch(conn, [c for a in run for c in a.changes], reset=run[0].reset)
        if any(a.cursor is not None or a.reset for a in run):
            by_reads += len(applied.changed - changed)
        changed |= applied.changed
        orphaned = orphaned or bool(applied.orphaned)
        for apply in run:
            if apply.cursor is not None:
                read_rows.save_cursor(conn, apply.cursor)
    return _Written(changed, by_reads, orphaned)


@dataclass(frozen=True, slots=True)
class _Answer:
    request_id: int
    result: tuple[int, list[Any]] | list[Any] | None  # None: the read failed
    snapshot: bool


@dataclass(frozen=True, slots=True)
class _State:
    state: ConnectionState


_Input = Event | _State | _Answer | None  # None: just wake up (a flush may be due)


@dataclass
class _Cycle:
    """One catch-up cycle, for its log lines: what started it, what it read, what it changed."""

    trigger: str
    started: float
    pages: int = 0
    rows: int = 0
    changed: int = 0
    failed_reads: int = 0
    snapshot: bool = False


def _replacing(rows: list[RecipePublic]) -> Callable[[sa.Connection], None]:
    return lambda conn: replace_recipes(conn, rows)


@dataclass
class _Listeners:
    callbacks: Listeners[frozenset[UUID]] = field(default_factory=lambda: Listeners("change listener"))
    queues: list[asyncio.Queue[frozenset[UUID]]] = field(default_factory=list)


class SyncEngine:
    def __init__(self, config: EngineConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self.store = LocalStore(config.data_path, device_id=config.device_id)
        self.api = KdsApiClient(config.url, config.anon_key, config.token_provider)
        channel = sync_channel(config.restaurant_id, SYNC_TABLES, config.realtime)
        self.realtime = RealtimeConnection(
            config.url,
            config.anon_key,
            [channel],
            token_provider=config.token_provider,
            offline_after_s=config.offline_after_s,
            heartbeat_s=config.heartbeat_s,
            watchdog_s=config.watchdog_s,
        )
        self.outbox = Outbox(self.store, config.role)
        # Orders as last displayed, with the rows they came from: a redraw parses and folds only what changed.
        self._displayed = DisplayCache(config.role)
        self.writer = StoreWriter(self.store, inline=not config.store_thread)
        self.uploader = Uploader(self.store, self.api, reauthenticate=config.token_provider.refresh)
        with self.store.snapshot() as conn:
            cursor = read_rows.load_cursor(conn)
            clock_start = read_rows.max_received(conn)
        self.catchup = CatchUp(
            config.restaurant_id, cursor, safety_interval_s=config.safety_interval_s, clock_start=clock_start
        )
        self.commit_groups: CommitGroups[ChangeEvent] = CommitGroups(
            config.group_hold_s, config.group_max_hold_s, self._whole_tickets, config.group_wait_s,
            done=lambda group: new_tickets_whole(e.change for e in group),
        )
        self.coalescer = Coalescer(config.coalesce_s)
        self.caught_up: Observable[bool] = Observable(False)
        self.retention = Retention(
            self.store, config.retention_days, config.retention_check_s, config.retention_first_s
        )
        self.late_rejections = LateRejections(
            self.store, self.api, config.safety_interval_s, self._late_rejections_recorded
        )
        self.hub_link = HubLinkWatch(self.api, config.safety_interval_s)
        self._inputs: Inbox[_Input] = Inbox()
        self._reads: asyncio.Queue[FetchSnapshot | FetchPage] = asyncio.Queue()
        self._listeners = _Listeners()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._pending_orders: set[UUID] = set()
        self._warned_no_deletion_log = False
        self._dismissed = 0
        self._cycle: _Cycle | None = None  # the catch-up cycle under way, for the log
        self._trigger = "start"  # what the input being handled is, should it start a cycle
        self.snapshots_applied = 0
        """Grows with every snapshot committed (a first start, or a catch-up that started over): what the store held
        before it is gone, so whatever mirrors the store must look again at what it did not get back."""
        self._started = False
        with self.store.snapshot() as conn:
            menu = eighty_sixed(conn)
        self._menu_pending = menu.pending
        self.eighty_sixed: Observable[tuple[str, ...]] = Observable(menu.names)
        with self.store.snapshot() as conn:
            book = load_recipes(conn)
        self.recipes: Observable[RecipeBook] = Observable(book)
        """Item name (lower case) -> its (ingredient, quantity) lines, from the local store (so it holds offline);
        re-read whole from the server after every catch-up and when a recipe changes (sync/engine/recipes.py)."""
        self._recipes_wanted = asyncio.Event()
        self._warned_no_recipes = False
        """The 86 list as displayed (server rows + this screen's unanswered 86s), in name order. Its own
        observable: the menu is not an order, so `on_changes` keeps carrying order ids only."""

    # ------------------------------------------------------------ observable state

    @property
    def connection_state(self) -> Observable[ConnectionState]:
        return self.realtime.state

    @property
    def queue_depth(self) -> Observable[int]:
        return self.uploader.queue_depth

    @property
    def last_error(self) -> Observable[str | None]:
        return self.uploader.last_error

    def oldest_pending_age(self) -> float | None:
        return self.uploader.oldest_pending_age_s()

    @property
    def stale_since(self) -> Observable[float | None]:
        """Set while no server heartbeat came for `watchdog_s` on a live socket (the time of the last one, on
        `time.monotonic`'s clock); None when fine. `self.realtime.silent_for()` gives the seconds."""
        return self.realtime.stale_since

    @property
    def hub_upstream(self) -> Observable[UpstreamLink | None]:
        """The link of the kitchen hub serving this screen to its upstream; None when no hub serves it."""
        return self.hub_link.link

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("engine already started")
        self._started = True
        self._unsubscribe = [
            self.realtime.add_handler(self._inputs.put_nowait),
            self.realtime.state.subscribe(lambda s: self._inputs.put_nowait(_State(s))),
            self.uploader.queue_depth.subscribe(lambda _d: self._outbox_settled()),
        ]
        with self.store.snapshot() as conn:
            self._pending_orders = outbox_rows.pending_order_ids(conn)
        self._tasks = [
            asyncio.create_task(self._drive(), name="sync-driver"),
            asyncio.create_task(self._read_loop(), name="sync-reader"),
            asyncio.create_task(self.retention.run(), name="sync-retention"),
            asyncio.create_task(self.late_rejections.run(), name="sync-late-rejections"),
            asyncio.create_task(self.hub_link.run(), name="sync-hub-link"),
            asyncio.create_task(self._recipes_loop(), name="sync-recipes"),
        ]
        await self.uploader.start()
        await self.realtime.start()

    async def stop(self) -> None:
        """Orderly: the batch in flight is answered and recorded (or stays queued); every task is awaited;
        every store write is one transaction, so nothing is half-written. The store is closed last."""
        if not self._started:
            return
        self._started = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.uploader.stop()
        await self.realtime.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.writer.aclose()  # the batch being written (if any) commits whole; its thread ends
        await self.api.aclose()
        self.store.close()

    async def __aenter__(self) -> SyncEngine:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ the app's interface

    def open_tickets(self, station: str | None = None, among: Collection[UUID] | None = None) -> list[OrderWithItems]:
        """Open orders as displayed (server rows + pending intents), oldest first; for a station, only orders
        with items there, showing only those items. `among`: only these orders (what a change touched)."""
        with self.store.snapshot() as conn:
            return open_tickets(conn, self.config.role, station, among, self._displayed)

    def open_tickets_timed(
        self, station: str | None = None, among: Collection[UUID] | None = None
    ) -> list[tuple[OrderWithItems, dict[UUID, datetime]]]:
        """`open_tickets`, each with its timed items' fire times (issue 19 item 1), found on the whole order: a
        station's fries wait on the grill's ribeye. Every screen derives the same times from the same rows."""
        with self.store.snapshot() as conn:
            return open_tickets_timed(conn, self.config.role, station, among, self._displayed)

    def stations(self) -> list[str]:
        """The stations this screen's store has items for (what an all-stations screen lists)."""
        with self.store.snapshot() as conn:
            return known_stations(conn)

    def recently_bumped(
        self, station: str | None = None, within_s: float = 1800.0
    ) -> list[tuple[OrderWithItems, datetime]]:
        """Orders bumped in the last `within_s` seconds as displayed, most recent first, each with its bump time
        (for the recall drawer); for a station, orders it has finished, showing only its items."""
        # The store's wall clock, not the engine's monotonic one: bump times are server and outbox timestamps.
        since = datetime.fromtimestamp(self.store.clock() - within_s, UTC)
        with self.store.snapshot() as conn:
            return recently_bumped(conn, self.config.role, station, since, self._displayed)

    def prep_times(
        self, stations: Collection[str] | None = None, *, since: datetime | None = None
    ) -> list[PrepSummary]:
        """Today's ticket times per station (average, 90th percentile, count) from the server's done times.
        `since` defaults to the start of the kitchen day: the last 04:00 in this machine's zone."""
        if since is None:
            now = datetime.fromtimestamp(self.store.clock(), UTC)
            since = day_start(now, DEFAULT_DAY_END_HOUR, local_zone())
        with self.store.snapshot() as conn:
            return prep_times(conn, since, stations)

    def submit(
        self,
        kind: IntentKind | str,
        order_id: UUID | None,
        item_id: UUID | None = None,
        station: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> Intent:
        """Committed before it returns (one local transaction, fsynced on the store's own thread right after); the
        upload happens in the background, once it is on disk."""
        intent = self.outbox.submit(kind, order_id, item_id, station, args)
        if intent.kind is IntentKind.eighty_six:
            self._refresh_menu()
        if order_id is not None:
            self._pending_orders.add(order_id)
            self.coalescer.add([order_id])
            self._inputs.put_nowait(None)
        self.uploader.queued(intent.created_at.timestamp() if intent.created_at else self.store.clock())
        return intent

    def rejected(self) -> list[OutboxEntry]:
        """Intents the server refused, with its reasons: shown until the cook dismisses them."""
        return self.outbox.rejected()

    @property
    def rejections_generation(self) -> int:
        """Changes whenever `rejected()` may have: a rejection recorded or one dismissed (cheap to poll)."""
        return self.uploader.rejections_recorded + self.late_rejections.recorded + self._dismissed

    def dismiss(self, intent_id: UUID) -> bool:
        """The cook has seen a rejection; it leaves the outbox (and the ticket is redrawn)."""
        entry = next((e for e in self.outbox.rejected() if e.intent.id == intent_id), None)
        gone = self.outbox.dismiss(intent_id)
        self._dismissed += 1
        if gone and entry is not None and entry.intent.kind is IntentKind.eighty_six:
            self._refresh_menu()
        if gone and entry is not None and entry.intent.order_id is not None:
            self.coalescer.add([entry.intent.order_id])
            self._inputs.put_nowait(None)
        return gone

    def unavailable_items(self) -> tuple[str, ...]:
        """The items 86'd now, as displayed: the server's rows with this screen's unanswered 86s applied."""
        with self.store.snapshot() as conn:
            return eighty_sixed(conn).names

    def eighty_six(self, item_name: str, *, available: bool = False) -> Intent:
        """86 a menu item (`available=True`: bring it back). Shown on `eighty_sixed` at once, synced later."""
        name = item_name.strip() if isinstance(item_name, str) else ""
        if not name or len(name) > 200:
            raise ValueError(f"an item name must be 1-200 characters, not {item_name!r}")
        return self.submit(IntentKind.eighty_six, None, args={"item_name": name, "available": available})

    def _late_rejections_recorded(self, intents: list[Intent]) -> None:
        """Refused late (see `late_rejections`): their tickets are redrawn and the refusals shown."""
        if any(i.kind is IntentKind.eighty_six for i in intents):
            self._refresh_menu()
        self.coalescer.add([i.order_id for i in intents if i.order_id is not None])
        self._inputs.put_nowait(None)

    def _refresh_menu(self) -> None:
        with self.store.snapshot() as conn:
            menu = eighty_sixed(conn)
        self._menu_pending = menu.pending
        self.eighty_sixed.set(menu.names)

    # ------------------------------------------------------------ a hub's interface (kds_backend/hub)

    def send_intents_through(self, sender: IntentSender) -> None:
        """Before `start`: intents are sent through `sender` rather than straight to the API (a hub sends its queued
        POS writes first, so upstream has an order before any tap on it)."""
        if self._started:
            raise RuntimeError("the engine has started: its uploader's sender is fixed")
        self.uploader.sender = sender

    def forwarded(self, intents: Collection[Intent]) -> None:
        """Intents `outbox.forward` has queued (a hub's LAN screens made them): in the overlay from now on, and sent
        upstream. Call on the engine's loop, after the forward has committed. No change is announced: whoever
        forwarded them shows them already (the hub applied them); their answer is announced as any other."""
        if any(i.kind is IntentKind.eighty_six for i in intents):
            self._refresh_menu()
        self._pending_orders.update(i.order_id for i in intents if i.order_id is not None)
        self.uploader.kick()

    def shown_orders(self, order_ids: Collection[UUID]) -> dict[UUID, OrderWithItems | None]:
        """Each order as displayed, whatever its status (server rows with the unanswered intents folded over them);
        None for one the store does not hold. Safe from any thread (a read-only snapshot)."""
        shown: dict[UUID, OrderWithItems | None] = {}
        for order_id in order_ids:
            overlaid = self.outbox.shown_order(order_id)
            shown[order_id] = None if overlaid is None else overlaid.order
        return shown

    def deleted_orders(self, order_ids: Collection[UUID]) -> set[UUID]:
        """Which of `order_ids` the server has deleted (as opposed to never sent, or left by retention)."""
        with self.store.snapshot() as conn:
            return server_rows.deleted_ids(conn, "orders", list(order_ids))

    def deleted_items(self, item_ids: Collection[UUID]) -> set[UUID]:
        """Which of `item_ids` (order lines) the server has deleted. Safe from any thread."""
        with self.store.snapshot() as conn:
            return server_rows.deleted_ids(conn, "order_items", list(item_ids))

    def order_ids(self) -> list[UUID]:
        """Every order the store holds, oldest change first."""
        with self.store.snapshot() as conn:
            return server_rows.order_ids(conn)

    def shown_menu(self) -> list[MenuLine]:
        """Every menu row as displayed (the server's rows with the unanswered 86s on top). Safe from any thread."""
        with self.store.snapshot() as conn:
            return shown_menu(conn)

    def on_changes(self, callback: Callable[[frozenset[UUID]], object]) -> Callable[[], None]:
        """`callback(order_ids)` after each coalesced batch of changes; returns the unsubscribe function."""
        return self._listeners.callbacks.add(callback)

    @contextlib.asynccontextmanager
    async def changes(self) -> AsyncIterator[asyncio.Queue[frozenset[UUID]]]:
        """A queue of coalesced changed-order-id sets, from now until the block exits."""
        queue: asyncio.Queue[frozenset[UUID]] = asyncio.Queue()
        self._listeners.queues.append(queue)
        try:
            yield queue
        finally:
            self._listeners.queues.remove(queue)

    # ------------------------------------------------------------ the driver

    async def _drive(self) -> None:
        while True:
            batch = [await self._next_input()]
            # Everything already queued is handled together: its writes are one transaction (one fsync), and a
            # burst of frames is never split into partial states that a repaint or a tap could see.
            while len(batch) < _MAX_BATCH and not self._inputs.empty():
                batch.append(self._inputs.get_nowait())
            try:
                await self._handle(batch)
            except Exception:
                # A store or machine error must not kill the read path: start over from what the store holds.
                log.exception("sync driver failed on a batch of %d input(s)", len(batch))
                await self._recover()
            self._flush()

    async def _next_input(self) -> _Input | None:
        deadlines = [
            d
            for d in (
                self.catchup.next_deadline(),
                self.coalescer.next_flush_at(),
                self.commit_groups.next_release_at(),
            )
            if d is not None
        ]
        timeout = None if not deadlines else max(0.0, min(deadlines) - self._clock())
        return await self._inputs.get(timeout)

    async def _handle(self, batch: list[_Input | None]) -> None:
        actions: list[Action] = []
        for item in batch:
            now = self._clock()
            if isinstance(item, ChangeEvent) and not isinstance(item.change, RawChange):
                actions.extend(self._commit(self.commit_groups.push(item, item.change.commit_timestamp, now), now))
                continue
            if isinstance(item, _State):
                # The connection changed: the frames still missing will not come this way (the catch-up brings them).
                actions.extend(self._commit(self.commit_groups.release(), now))
            elif item is not None:
                # Nothing may overtake the whole commits held: they happened before this input. One still missing
                # items stays (the rows it would overtake are merged by change_seq).
                actions.extend(self._commit(self.commit_groups.release_whole(now), now))
            actions.extend(self._machine(item, now))
        now = self._clock()
        gave_up = self.commit_groups.gave_up
        actions.extend(self._commit(self.commit_groups.due(now), now))
        if self.commit_groups.gave_up != gave_up:
            self.catchup.want()  # a ticket applied short of items: read it whole over REST now
        await self._carry_out(actions)

    def _whole_tickets(self, group: Sequence[ChangeEvent]) -> bool:
        """`CommitGroups`' data check: no order in `group` would be applied short of its items."""
        return whole((e.change for e in group), self._stored_items)

    def _stored_items(self, ids: set[UUID]) -> Stored:
        with self.store.snapshot() as conn:
            counts, items = server_rows.held_items(conn, ids)
        return Stored(counts, items)

    def _commit(self, group: list[ChangeEvent], now: float) -> list[Action]:
        """One commit's frames through the machine, orders before their items (see `commit_groups`)."""
        ordered = sorted(group, key=_apply_rank)
        return [action for event in ordered for action in self._machine(event, now)]

    async def _recover(self) -> None:
        """A fresh catch-up machine from the stored cursor (the batch's writes were rolled back, so the old
        machine's cursor and requests no longer match the store); it catches up at once if connected."""
        with self.store.snapshot() as conn:
            cursor = read_rows.load_cursor(conn)
            clock_start = read_rows.max_received(conn)
        self.commit_groups.release()
        self._cycle = None
        self._trigger = "recovery after a failed batch"
        self.catchup = CatchUp(
            self.config.restaurant_id,
            cursor,
            safety_interval_s=self.config.safety_interval_s,
            clock_start=max(clock_start, self.catchup.clock + 1),
        )
        if self.connection_state.value is ConnectionState.LIVE:
            try:
                await self._carry_out([*self.catchup.subscribing(), *self.catchup.subscribed(self._clock())])
            except Exception:
                log.exception("sync driver could not restart its catch-up")

    def _machine(self, item: _Input | None, now: float) -> list[Action]:
        """One input through the catch-up machine: the actions it asks for."""
        if isinstance(item, _State):
            return self._on_state(item.state)
        if isinstance(item, LiveAgain):
            # The server is reachable again: queued taps go now, and a batch sent while it was not goes again.
            self.uploader.live_again()
            self.late_rejections.want()
            self.hub_link.want()
            self._trigger = "reconnected" if item.again else "connected"
            return self.catchup.subscribed(now)
        if isinstance(item, HintEvent):
            if item.event == LATE_REJECTION_EVENT and item.payload.get("device_id") == self.config.device_id:
                self.late_rejections.want()
            elif item.event == HUB_UPSTREAM_EVENT:
                self.hub_link.want()
            return []
        if isinstance(item, ChangeEvent):
            if isinstance(item.change, RawChange) and item.change.data.get("table") == RECIPES:
                self._recipes_wanted.set()  # recipes are re-read whole, not merged: no catch-up needed
                return []
            self._trigger = "unreadable push"
            return self.catchup.event(item.change)
        if isinstance(item, _Answer):
            return self._on_answer(item, now)
        self._trigger = "periodic"
        return self.catchup.tick(now)

    def _on_state(self, state: ConnectionState) -> list[Action]:
        if state is ConnectionState.JOINING:
            return self.catchup.subscribing()
        if state in (ConnectionState.RECONNECTING, ConnectionState.OFFLINE):
            self.caught_up.set(False)
            self.uploader.abandon_inflight()
            if self._cycle is not None:
                cycle, self._cycle = self._cycle, None
                log.info(
                    "catch-up interrupted (connection %s) after %d page(s)", state.value, cycle.pages,
                    extra={"event": "catchup", "phase": "interrupted", "trigger": cycle.trigger, "pages": cycle.pages},
                )
            return self.catchup.disconnected()
        return []

    def _on_answer(self, answer: _Answer, now: float) -> list[Action]:
        if self._cycle is not None:
            if answer.result is None:
                self._cycle.failed_reads += 1
            else:
                self._cycle.pages += 1
                rows = answer.result[1] if isinstance(answer.result, tuple) else answer.result
                self._cycle.rows += len(rows)
        if answer.result is None:
            return self.catchup.request_failed(answer.request_id, now)
        if answer.snapshot:
            assert isinstance(answer.result, tuple)
            head, rows = answer.result
            return self.catchup.snapshot_loaded(answer.request_id, rows, head, now)
        assert isinstance(answer.result, list)
        return self.catchup.page_loaded(answer.request_id, answer.result, now)

    async def _carry_out(self, actions: list[Action]) -> None:
        """Every write of the batch in one local transaction, in order (on the writer's thread); then the rest, so
        `Live` is only said, and changes only announced, once what they vouch for is committed."""
        applies = [a for a in actions if isinstance(a, Apply)]
        if applies:
            written = await self.writer.write(lambda conn: _write_applies(conn, applies))
            changed = written.changed
            if self._cycle is not None:
                self._cycle.changed += written.by_reads
            if written.orphaned:
                # An item pushed before its order (frames reordered across commits): only a catch-up, which
                # reads orders with their items, can place it. Now, not at the safety interval.
                self.catchup.want()
            self.snapshots_applied += sum(1 for a in applies if a.reset)
            if _trace.on:
                _trace.mark("store", changed)
            self.coalescer.add(changed)
            if any(touches_menu(a.changes, reset=a.reset) for a in applies):
                self._refresh_menu()
        for action in actions:
            if isinstance(action, FetchSnapshot | FetchPage):
                if self._cycle is None:
                    self._cycle_started(isinstance(action, FetchSnapshot))
                self._reads.put_nowait(action)
            elif isinstance(action, Live):
                self.caught_up.set(True)
                self._cycle_done()
                self._recipes_wanted.set()
            elif isinstance(action, Resync):
                log.warning(
                    "catch-up starts over from a snapshot: %s", action.reason,
                    extra={"event": "catchup", "phase": "resync", "reason": action.reason},
                )
                if self._cycle is not None:
                    self._cycle.snapshot = True

    def _cycle_started(self, snapshot: bool) -> None:
        """A catch-up cycle starts. The periodic safety read is said at DEBUG: it is the only one a quiet kitchen
        has, every minute, and only news when it changed something (said when it ends)."""
        self._cycle = _Cycle(self._trigger, self._clock(), snapshot=snapshot)
        level = logging.DEBUG if self._trigger == "periodic" else logging.INFO
        log.log(
            level, "catch-up started (%s)%s", self._trigger, ": reading a snapshot" if snapshot else "",
            extra={"event": "catchup", "phase": "started", "trigger": self._trigger, "snapshot": snapshot},
        )

    def _cycle_done(self) -> None:
        cycle, self._cycle = self._cycle, None
        if cycle is None:
            return
        took = self._clock() - cycle.started
        quiet = cycle.trigger == "periodic" and cycle.changed == 0 and not cycle.snapshot
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "catch-up done (%s): live after %d page(s), %d row(s) read, %d order(s) changed, %.2f s",
            cycle.trigger, cycle.pages, cycle.rows, cycle.changed, took,
            extra={"event": "catchup", "phase": "live", "trigger": cycle.trigger, "pages": cycle.pages,
                   "rows": cycle.rows, "changed": cycle.changed, "failed_reads": cycle.failed_reads,
                   "snapshot": cycle.snapshot, "took_s": round(took, 3)},
        )

    def _flush(self) -> None:
        ids = self.coalescer.flush(self._clock())
        if not ids:
            return
        if _trace.on:
            _trace.mark("notify", ids)
        self._listeners.callbacks.notify(ids)
        for queue in self._listeners.queues:
            queue.put_nowait(ids)

    def _outbox_settled(self) -> None:
        """Intents answered: orders whose last pending intent left the outbox are redrawn (a rejection changes
        no server row, so no push would ever redraw the loser's ticket)."""
        if not self._started:
            return
        if self._menu_pending:
            self._refresh_menu()  # an 86 was answered: the confirmed row (or its rejection) decides now
        with self.store.snapshot() as conn:
            now_pending = outbox_rows.pending_order_ids(conn)
        settled = self._pending_orders - now_pending
        self._pending_orders = now_pending
        if settled:
            self.coalescer.add(settled)
            self._inputs.put_nowait(None)

    # ------------------------------------------------------------ recipes

    async def _recipes_loop(self) -> None:
        """Re-read the recipes whenever asked (after a catch-up, or a recipe push); one read at a time, and asks
        made during a read make one more read, not one each."""
        while True:
            await self._recipes_wanted.wait()
            self._recipes_wanted.clear()
            try:
                rows = await read_recipes(self.api, self.config.restaurant_id)
            except ApiError as exc:
                if exc.status == 404:
                    if not self._warned_no_recipes:
                        self._warned_no_recipes = True
                        log.warning(
                            "the server has no recipes table (%s): apply supabase/migrations/"
                            "20261207004000_recipes.sql; the all-day panel counts items only until then", exc,
                        )
                else:
                    log.warning("recipes read failed (the next catch-up reads them again): %s", exc)
                continue
            except Exception as exc:
                log.warning("recipes read failed (the next catch-up reads them again): %s: %s", type(exc).__name__, exc)
                continue
            book = recipe_book(rows)
            if book == self.recipes.value:
                continue
            await self.writer.write(_replacing(rows))
            self.recipes.set(book)

    # ------------------------------------------------------------ the reader

    def _warn_no_deletion_log(self, exc: ApiError) -> None:
        if not self._warned_no_deletion_log:
            self._warned_no_deletion_log = True
            log.warning(
                "the server has no deletion log (%s): apply supabase/migrations/20261123000000_deleted_rows.sql; "
                "until then an order deleted while this screen is away stays on it until its next snapshot",
                exc,
            )

    async def _read_loop(self) -> None:
        restaurant = self.config.restaurant_id
        while True:
            request = await self._reads.get()
            snapshot = isinstance(request, FetchSnapshot)
            result: tuple[int, list[Any]] | list[Any] | None
            try:
                if isinstance(request, FetchSnapshot):
                    result = await read_snapshot(self.api, restaurant)
                else:
                    result = list(await read_page(self.api, restaurant, request))
            except ApiError as exc:
                if isinstance(request, FetchPage) and request.table == DELETIONS and exc.status == 404:
                    # A Supabase project without the deletion-log migration: keep the screen working (deletes
                    # still arrive live and with snapshots), and say what to apply.
                    self._warn_no_deletion_log(exc)
                    result = []
                else:
                    log.warning("catch-up read failed: %s: %s", type(exc).__name__, exc)
                    result = None
            except Exception as exc:
                # Network, auth or a malformed answer: the machine retries the same read with backoff.
                log.warning("catch-up read failed: %s: %s", type(exc).__name__, exc)
                result = None
            self._inputs.put_nowait(_Answer(request.request_id, result, snapshot))
