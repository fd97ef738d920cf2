"""One signal hub between the sync engine and the Qt side (issue 18, as novelWriter does).

The engine reports through observables and `on_changes` callbacks, which know nothing of Qt object lifetimes: a
callback into a window that Qt has already deleted crashes, and every widget that subscribed had to remember to
unsubscribe. The session makes one `EngineBridge` per engine; it alone subscribes to the engine, and re-emits each
report as a Qt signal. The window, the panes' screens and the ready board connect to those signals, so a
connection to a deleted receiver ends with it, and `detach()` drops every engine subscription at once.

The bridge also keeps the last value each signal carried (`connection_state`, `queue_depth`...): what the window
reads when it redraws, so a window is driven by the bridge alone (a test can emit the signals itself).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from PySide6.QtCore import QObject, Signal

from api_client.hub_link import UpstreamLink
from sync import ConnectionState, Observable, SyncEngine

Recipes = Mapping[str, tuple[tuple[str, int], ...]]  # the engine's RecipeBook: item name -> (ingredient, qty)


class EngineBridge(QObject):
    """The engine's reports as Qt signals; connect to these, never to the engine's observables."""

    # `object`, not Python types: the values cross unchanged (a frozenset stays the engine's frozenset).
    changes = Signal(object)  # frozenset[UUID]: the orders a coalesced batch of changes touched
    connection_changed = Signal(object)  # ConnectionState
    queue_depth_changed = Signal(int)
    hub_upstream_changed = Signal(object)  # UpstreamLink | None
    stale_changed = Signal(object)  # float | None: the last heartbeat's monotonic time while silent
    eighty_sixed_changed = Signal(object)  # tuple[str, ...]
    recipes_changed = Signal(object)  # the engine's RecipeBook
    caught_up_changed = Signal(bool)
    sign_in_needed_changed = Signal(object)  # str | None: why this screen must be signed in again

    def __init__(self, engine: SyncEngine, sign_in_needed: Observable[str | None] | None = None) -> None:
        """`sign_in_needed`: the connection's observable (`Connection.sign_in_needed`), when there is one."""
        super().__init__()
        self.engine = engine
        self.connection_state: ConnectionState = engine.connection_state.value
        self.queue_depth: int = engine.queue_depth.value
        self.hub_upstream: UpstreamLink | None = engine.hub_upstream.value
        self.stale_since: float | None = engine.stale_since.value
        self.eighty_sixed: tuple[str, ...] = engine.eighty_sixed.value
        self.recipes: Recipes = engine.recipes.value
        self.caught_up: bool = engine.caught_up.value
        self.sign_in_needed: str | None = sign_in_needed.value if sign_in_needed is not None else None
        # Connected before anyone else can connect: every receiver reads the value its signal just carried.
        self.connection_changed.connect(self._remember_connection)
        self.queue_depth_changed.connect(self._remember_depth)
        self.hub_upstream_changed.connect(self._remember_upstream)
        self.stale_changed.connect(self._remember_stale)
        self.eighty_sixed_changed.connect(self._remember_eighty_sixed)
        self.recipes_changed.connect(self._remember_recipes)
        self.caught_up_changed.connect(self._remember_caught_up)
        self.sign_in_needed_changed.connect(self._remember_sign_in)
        self._unsubscribe: list[Callable[[], None]] = [
            engine.on_changes(self._changed),
            engine.connection_state.subscribe(self.connection_changed.emit),
            engine.queue_depth.subscribe(self.queue_depth_changed.emit),
            engine.hub_upstream.subscribe(self.hub_upstream_changed.emit),
            engine.stale_since.subscribe(self.stale_changed.emit),
            engine.eighty_sixed.subscribe(self.eighty_sixed_changed.emit),
            engine.recipes.subscribe(self.recipes_changed.emit),
            engine.caught_up.subscribe(self.caught_up_changed.emit),
        ]
        if sign_in_needed is not None:
            self._unsubscribe.append(sign_in_needed.subscribe(self.sign_in_needed_changed.emit))

    @property
    def attached(self) -> bool:
        return bool(self._unsubscribe)

    def detach(self) -> None:
        """Drop every engine subscription (the session is stopping): no signal is emitted for the engine again.
        Harmless to call twice."""
        unsubscribe, self._unsubscribe = self._unsubscribe, []
        for remove in unsubscribe:
            remove()

    def _changed(self, order_ids: frozenset[UUID]) -> None:
        self.changes.emit(order_ids)

    def _remember_connection(self, state: ConnectionState) -> None:
        self.connection_state = state

    def _remember_depth(self, depth: int) -> None:
        self.queue_depth = depth

    def _remember_upstream(self, link: UpstreamLink | None) -> None:
        self.hub_upstream = link

    def _remember_stale(self, since: float | None) -> None:
        self.stale_since = since

    def _remember_eighty_sixed(self, names: tuple[str, ...]) -> None:
        self.eighty_sixed = names

    def _remember_recipes(self, recipes: Recipes) -> None:
        self.recipes = recipes

    def _remember_caught_up(self, live: bool) -> None:
        self.caught_up = live

    def _remember_sign_in(self, reason: str | None) -> None:
        self.sign_in_needed = reason
