"""Recording a tap: one local transaction, no network. What the screen shows comes from `shown_order`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api_client.listeners import Listeners
from api_client.models import DeviceRole, Intent, IntentKind
from api_client.plant import planted
from sync.store import LocalStore, meta, outbox_rows, server_rows
from sync.store.outbox_rows import OutboxEntry
from sync.store.overlay import Overlaid, overlay

from .intent_log import log_tap

log = logging.getLogger(__name__)


class Outbox:
    """The screen's side of the outbox. `role` is the device's role, which the state machine needs to predict."""

    def __init__(self, store: LocalStore, role: DeviceRole) -> None:
        self.store = store
        self.role = role
        # The tap is committed before they hear of it: a failing one must not make the caller think it was not.
        self._listeners: Listeners[Intent] = Listeners("outbox listener")

    def submit(
        self,
        kind: IntentKind | str,
        order_id: UUID | None = None,
        item_id: UUID | None = None,
        station: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> Intent:
        """Queue an intent and return it. Committed when it returns (a `kill -9` keeps it); its fsync runs on the
        store's sync thread meanwhile, and the uploader sends it only after that (`LocalStore.durable`). Never waits
        on the network or the disk; the uploader is only nudged."""
        with self.store.deferred_sync() as conn:
            # The sequence number and the row commit together: a crash consumes neither or both.
            intent = Intent(
                id=uuid.uuid4(),
                device_id=self.store.device_id,
                device_seq=meta.take_device_seq(conn),
                kind=IntentKind(kind),
                order_id=order_id,
                item_id=item_id,
                station=station,
                args=args or {},
                created_at=datetime.fromtimestamp(self.store.clock(), UTC),
            )
            outbox_rows.append(conn, intent, self.store.clock())
            log_tap(log, conn, intent)
        self._listeners.notify(intent)
        if planted("forget_acked"):
            with self.store.transaction() as conn:  # planted bug (fault harness): the acknowledged tap is dropped
                outbox_rows.confirm(conn, [intent.id])
        return intent

    def forward(self, intents: Sequence[Intent]) -> None:
        """Queue intents other devices made (a hub's LAN screens), keeping their ids, devices and sequence numbers;
        one already queued is left alone. Durable when it returns, and safe from any thread (one store
        transaction): the caller then tells the engine on its loop (`SyncEngine.forwarded`)."""
        with self.store.transaction() as conn:
            outbox_rows.append_new(conn, intents, self.store.clock())

    def on_submit(self, callback: Callable[[Intent], object]) -> Callable[[], None]:
        return self._listeners.add(callback)

    def shown_order(self, order_id: UUID) -> Overlaid | None:
        """The order as the screen shows it: server state with the unanswered intents applied, or None."""
        with self.store.snapshot() as conn:
            order = server_rows.load_order(conn, order_id)
            pending = outbox_rows.unsettled_for_order(conn, order_id)
        return None if order is None else overlay(order, pending, self.role)

    def rejected(self) -> list[OutboxEntry]:
        """Intents the server refused, with its reasons, oldest first: shown until the cook dismisses them."""
        with self.store.snapshot() as conn:
            return outbox_rows.rejected(conn)

    def dismiss(self, intent_id: UUID) -> bool:
        with self.store.transaction() as conn:
            return outbox_rows.dismiss(conn, intent_id)

    def depth(self) -> int:
        with self.store.snapshot() as conn:
            return outbox_rows.depth(conn)
