"""`UpstreamMirror`: the hub's sync engine on upstream, and the projection of what it shows onto the hub's rows.

One projector task writes the projection, so projections never interleave; each runs inside a hub write. A LAN
intent is queued in the hub's `hub_intents` in the write that applies it (`forward`), so the hub's ledger and the
queue for upstream commit together: a kill cannot leave a tap queued upstream yet unknown at the hub, whose resend
the hub would then decide a second time. Each projection first moves that queue into the engine's outbox, then
reads the engine's store, all in the writer thread: a projection never sees a LAN intent applied at the hub and
missing from the outbox, which would show a screen its own bump undone for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from api_client.errors import ClientError
from api_client.hub_link import HUB_UPSTREAM_EVENT
from api_client.late_rejection import LATE_REJECTION_EVENT
from api_client.models import DeviceRole, Intent, IntentResult, IntentStatus, OrderWithItems
from sync import OPEN_STATUSES, ConnectionState, EngineConfig, OutboxEntry, SyncEngine

from ..db.database import BatchFn, Database
from ..db.tables import hub_intents, intent_ledger, late_rejections, orders, upstream_writes
from ..db.writer import RowChange, Writer
from ..errors import ApiError
from ..intake import OrderRequest, StoredResponse, intake_orders
from ..recipes import project_recipes
from . import pending_updates
from .forward_writes import WAITING, ForwardingSender, WriteForwarder, queue_writes
from .projection import project_menu, project_orders
from .settings import UpstreamSettings
from .upstream_auth import UpstreamAccount, sign_in

log = logging.getLogger(__name__)

Broadcaster = Callable[[str, str, str, dict[str, Any]], None]
"""`RealtimeService.broadcast(restaurant_id, channel, event, payload)`."""

_CHUNK = 200  # orders projected per hub transaction at most: a full reconcile never holds the writer for long
_RETRY_S = 1.0


def forwardable(intents: Sequence[Intent], results: Sequence[IntentResult]) -> list[Intent]:
    """The intents the hub applied just now: the ones to send upstream. A duplicate was queued when first applied."""
    return [i for i, r in zip(intents, results, strict=True) if r.status is IntentStatus.applied]


class UpstreamMirror:
    def __init__(
        self, settings: UpstreamSettings, db: Database, account: UpstreamAccount, broadcast: Broadcaster | None = None
    ) -> None:
        self.settings, self.db, self.account = settings, db, account
        self._broadcast = broadcast
        self.restaurant_id = account.restaurant_id
        self.engine = SyncEngine(
            EngineConfig(
                url=settings.url,
                anon_key=settings.anon_key,
                restaurant_id=account.restaurant_id,
                device_id=account.device_id,
                role=DeviceRole.admin,
                token_provider=account.tokens,
                data_path=settings.store_path,
                heartbeat_s=settings.heartbeat_s,
            )
        )
        self.writes = WriteForwarder(db, self.engine.api)
        self.engine.send_intents_through(ForwardingSender(self.engine.api, self.writes))
        self.intake_orders: BatchFn = self._intake_orders  # one object: the database groups requests by it
        self._writes_task: asyncio.Task[None] | None = None
        self._dirty: set[UUID] = set()
        self._menu_dirty = True
        self._snapshots_seen = 0
        self._unresolved: set[UUID] = set()
        """Open at the hub, gone from the mirror's store without a deletion (a snapshot started it over): upstream is
        asked what became of them."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = [
            self.engine.on_changes(self._orders_changed),
            self.engine.eighty_sixed.subscribe(lambda _names: self._menu_changed()),
            self.engine.recipes.subscribe(lambda _book: self._menu_changed()),  # projected with the menu
            self.engine.queue_depth.subscribe(lambda _depth: self._wake.set()),
            self.engine.caught_up.subscribe(lambda _caught_up: self._wake.set()),
            self.engine.connection_state.subscribe(self._link_changed),
        ]
        self._down_since: datetime | None = None

    # ------------------------------------------------------------ the LAN's intents (rpc/apply_intents)

    def forward(
        self, w: Writer, caller_restaurant: str, intents: Sequence[Intent], results: Sequence[IntentResult]
    ) -> list[Intent]:
        """Queue the intents the hub just applied for upstream, in the hub's write that applied them. Returns them,
        for `forwarded` once the write has committed."""
        if caller_restaurant != self.restaurant_id:
            return []  # a device of another restaurant on this hub: upstream is not its server
        chosen = forwardable(intents, results)
        if chosen:
            w.conn.execute(hub_intents.insert(), [{"intent": i.model_dump(mode="json")} for i in chosen])
        return chosen

    def forwarded(self, intents: Sequence[Intent]) -> None:
        """The hub committed `intents`: the projector moves them to the engine's outbox, which sends them."""
        if intents:
            self._wake.set()

    # ------------------------------------------------------------ the LAN's POS writes (intake, PostgREST)

    def queue_writes(
        self,
        w: Writer,
        caller_restaurant: str,
        changes: Sequence[RowChange],
        update: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """In the hub's write: queue for upstream what a POS write just did (see `forward_writes`)."""
        if caller_restaurant == self.restaurant_id:
            queue_writes(w, caller_restaurant, changes, update)

    def _intake_orders(self, w: Writer, requests: Sequence[OrderRequest]) -> list[StoredResponse | ApiError]:
        mark = len(w.changes)
        outcomes = intake_orders(w, requests)
        self.queue_writes(w, self.restaurant_id, w.changes[mark:])
        return outcomes

    async def status(self) -> dict[str, Any]:
        """For `/health`: is upstream reachable, and how much waits to be forwarded (taps, POS writes)."""
        writes, failed, moving = await self.db.aread(_write_counts)
        age = self.engine.oldest_pending_age()
        return {
            "url": self.settings.url,
            "connection": self.engine.connection_state.value.value,
            "caught_up": self.engine.caught_up.value,
            "taps_waiting": self.engine.queue_depth.value + moving,
            "oldest_tap_waiting_s": None if age is None else round(age, 1),
            "pos_writes_waiting": writes,
            "pos_writes_refused": failed,
            "last_error": self.engine.last_error.value,
            "down_since": None if self._down_since is None else self._down_since.isoformat(),
        }

    def _link_changed(self, state: ConnectionState) -> None:
        """Upstream went (offline: lost for longer than a blip) or came back: the LAN screens are told
        (`api_client.hub_link`) and read `/health`."""
        up = state is not ConnectionState.OFFLINE
        if up == (self._down_since is None):
            return
        self._down_since = None if up else datetime.now(UTC)
        log.warning("upstream %s is %s", self.settings.url, "back" if up else f"away ({state.value})")
        if self._broadcast is not None:
            self._broadcast(self.restaurant_id, f"kds-{self.restaurant_id}", HUB_UPSTREAM_EVENT, {"up": up})

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        # The hub's rows may lag the mirror's store (a kill between the two commits): project all it holds.
        self._dirty |= set(self.engine.order_ids())
        self._dirty |= self.engine.deleted_orders(await self.db.aread(self._hub_order_ids))
        self._task = asyncio.create_task(self._project_loop(), name="hub-projector")
        self._writes_task = asyncio.create_task(self.writes.run(), name="hub-forward-writes")
        self._wake.set()
        await self.engine.start()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.engine.stop()
        for task in (self._task, self._writes_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.account.aclose()

    def _hub_order_ids(self, conn: sa.Connection) -> list[UUID]:
        query = sa.select(orders.c.id).where(
            orders.c.restaurant_id == self.restaurant_id, orders.c.cleared_at.is_(None)
        )
        return list(conn.execute(query).scalars())

    # ------------------------------------------------------------ the projector

    def _orders_changed(self, ids: frozenset[UUID]) -> None:
        self._dirty |= ids
        self._wake.set()

    def _menu_changed(self) -> None:
        self._menu_dirty = True
        self._wake.set()

    async def _project_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._project_dirty()
            except Exception:
                # The hub's database is away (locked, full): what is dirty stays dirty and is tried again.
                log.exception("projecting upstream onto the hub failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), _RETRY_S)
                self._wake.set()

    async def _project_dirty(self) -> None:
        first = True  # every wake looks for rejections once (an answer from upstream changes the queue's depth)
        while first or self._dirty or self._menu_dirty:
            ids = sorted(self._dirty)[:_CHUNK]
            menu = self._menu_dirty
            self._dirty.difference_update(ids)
            self._menu_dirty = False
            try:
                moved, refused = await self.db.awrite(lambda w, ids=ids, menu=menu: self._project(w, ids, menu))
            except BaseException:
                self._dirty.update(ids)
                self._menu_dirty |= menu
                raise
            first = False
            if moved:
                self.engine.forwarded(moved)
            for entry in refused:
                intent = entry.intent
                log.warning(
                    "upstream refused %s from %s (order %s, intent %s): %s",
                    intent.kind.value, intent.device_id, intent.order_id, intent.id, entry.reason,
                )
                self.engine.dismiss(intent.id)
            if self._broadcast is not None:
                # A hint on the restaurant's channel: the device asks for its refusals (rpc/late_rejections).
                for device in sorted({e.intent.device_id for e in refused}):
                    self._broadcast(self.restaurant_id, f"kds-{self.restaurant_id}", LATE_REJECTION_EVENT,
                                    {"device_id": device})
        if self.engine.snapshots_applied != self._snapshots_seen:
            self._snapshots_seen = self.engine.snapshots_applied
            self._unresolved |= await self.db.aread(self._open_but_not_mirrored)
        if self._unresolved and self.engine.caught_up.value:
            await self._resolve()

    def _open_but_not_mirrored(self, conn: sa.Connection) -> set[UUID]:
        """Orders open at the hub that the mirror's store does not hold and no POS write of the hub's own is still
        queued for (those are the hub's, on their way up). One the store has a deletion for is among them: a store
        that never held the row says nothing when its deletion arrives."""
        query = sa.select(orders.c.id).where(
            orders.c.restaurant_id == self.restaurant_id,
            orders.c.cleared_at.is_(None),
            orders.c.status.in_(OPEN_STATUSES),
        )
        open_ids = set(conn.execute(query).scalars())
        held = set(self.engine.order_ids())
        return open_ids - held - _queued_order_ids(conn)

    async def _resolve(self) -> None:
        """Ask upstream what became of orders the mirror lost track of: the rows it has now, or gone."""
        ids = sorted(self._unresolved)[:_CHUNK]
        try:
            rows = await self.engine.api.select(
                "orders",
                {
                    "select": "*,order_items(*)",
                    "restaurant_id": f"eq.{self.restaurant_id}",
                    "id": f"in.({','.join(str(i) for i in ids)})",
                },
            )
        except ClientError as exc:
            log.info("asking upstream about %d order(s) waits: %s", len(ids), exc)
            return  # asked again when the mirror is caught up next
        found = {o.id: o for o in (OrderWithItems.model_validate(r) for r in rows)}
        shown: dict[UUID, OrderWithItems | None] = {i: found.get(i) for i in ids}
        gone = [i for i in ids if i not in found]
        if gone:
            log.warning("%d order(s) open at the hub are gone upstream; removing them: %s", len(gone), gone)
        await self.db.awrite(lambda w: project_orders(w, self.restaurant_id, shown, gone))
        self._unresolved.difference_update(ids)
        if self._unresolved:
            self._wake.set()

    def _project(self, w: Writer, ids: list[UUID], menu: bool) -> tuple[list[Intent], list[OutboxEntry]]:
        """In the hub's writer thread: the LAN intents queued so far moved into the engine's outbox, then the
        engine's store read. Returns the intents moved (for `SyncEngine.forwarded`) and the refusals settled.

        Intents upstream refused are settled in the same write: their effect is already gone from what the engine
        shows, so their orders are projected without them while the hub's ledger records upstream's reason."""
        moved = self._move_queued(w)
        refused = self.engine.rejected()
        ids = list({*ids, *(e.intent.order_id for e in refused if e.intent.order_id is not None)})
        if ids:
            shown = self.engine.shown_orders(ids)
            deleted = self.engine.deleted_orders([i for i, order in shown.items() if order is None])
            held = [order for order in shown.values() if order is not None]
            queued = pending_updates.load(w.conn, self.restaurant_id)
            if queued:
                shown = {i: None if o is None else pending_updates.laid_over(o, queued) for i, o in shown.items()}
            project_orders(w, self.restaurant_id, shown, deleted, self.engine.deleted_items)
            if queued:
                pending_updates.prune(w, queued, held, w.now)
        if menu or any(e.intent.order_id is None for e in refused):
            project_menu(w, self.restaurant_id, self.engine.shown_menu())
            project_recipes(w, self.restaurant_id, self.engine.recipes.value)
        _record_rejections(w, refused)
        return moved, refused

    def _move_queued(self, w: Writer) -> list[Intent]:
        """The engine's outbox commits first: a kill before the hub's delete commits moves them again, and the
        outbox ignores an intent it holds (one already answered is answered `duplicate` upstream)."""
        rows = list(w.conn.execute(sa.select(hub_intents.c.seq, hub_intents.c.intent).order_by(hub_intents.c.seq)))
        if not rows:
            return []
        intents = [Intent.model_validate(r.intent) for r in rows]
        self.engine.outbox.forward(intents)
        w.conn.execute(hub_intents.delete().where(hub_intents.c.seq <= rows[-1].seq))
        return intents


def _queued_order_ids(conn: sa.Connection) -> set[UUID]:
    """Orders a queued POS write of the hub's own names (a row it inserted, or an item's order)."""
    ids: set[UUID] = set()
    for table, body in conn.execute(sa.select(upstream_writes.c.table_name, upstream_writes.c.body)):
        for row in body.get("rows", []):
            ids.add(UUID(row["id"] if table == "orders" else row["order_id"]))
        ids.update(UUID(i) for i in body.get("ids", []) if table == "orders")
    return ids


def _write_counts(conn: sa.Connection) -> tuple[int, int, int]:
    """POS writes waiting and refused, and LAN taps not yet in the engine's outbox."""
    query = sa.select(sa.func.count().filter(WAITING), sa.func.count(upstream_writes.c.failed))
    waiting, failed = conn.execute(query).one()
    moving = conn.execute(sa.select(sa.func.count()).select_from(hub_intents)).scalar_one()
    return int(waiting), int(failed), int(moving)


def _record_rejections(w: Writer, refused: list[OutboxEntry]) -> None:
    """The hub's ledger says refused (a screen resending one hears so), and each refusal is kept for the device
    that made it (`rpc/late_rejections`); a refusal recorded before (a projection tried again) is not repeated."""
    if not refused:
        return
    ids = [e.intent.id for e in refused]
    query = sa.select(late_rejections.c.intent_id).where(late_rejections.c.intent_id.in_(ids))
    known = set(w.conn.execute(query).scalars())
    rows = []
    for entry in refused:
        intent, reason = entry.intent, (entry.reason or "refused")[:500]
        w.conn.execute(
            intent_ledger.update()
            .where(intent_ledger.c.intent_id == intent.id)
            .values(status=IntentStatus.rejected.value, reason=reason)
        )
        if intent.id in known:
            continue
        restaurant = w.conn.execute(
            sa.select(intent_ledger.c.restaurant_id).where(intent_ledger.c.intent_id == intent.id)
        ).scalar_one_or_none()
        if restaurant is None:
            continue  # not applied at this hub (queued by an older build?): no device here to tell
        rows.append(
            {
                "intent_id": intent.id,
                "restaurant_id": restaurant,
                "device_id": intent.device_id,
                "seq": w.next_seq(),
                "intent": intent.model_dump(mode="json"),
                "reason": reason,
                "rejected_at": w.now,
            }
        )
    if rows:
        w.conn.execute(late_rejections.insert(), rows)


@contextlib.asynccontextmanager
async def upstream_mirror(
    settings: UpstreamSettings | None, db: Database, broadcast: Broadcaster | None = None
) -> AsyncIterator[UpstreamMirror | None]:
    """The hub's mirror for the app's lifespan (None when the companion has no upstream)."""
    if settings is None:
        yield None
        return
    account = await sign_in(settings)
    try:
        mirror = UpstreamMirror(settings, db, account, broadcast)
    except BaseException:
        await account.aclose()
        raise
    await mirror.start()
    try:
        yield mirror
    finally:
        await mirror.stop()
