"""The embedded sync engine: Qt-free asyncio around sans-I/O cores (realtime, catch-up, outbox).

What the app and the hub use is exported here, and only this (`tests/sync/test_public_api.py` pins the list):
`from sync import SyncEngine, EngineConfig, ...`. The modules under `sync.engine`, `sync.store`, `sync.realtime`
and `sync.readpath` are the engine's inside and may change without notice.
"""

from api_client.backoff import Backoff
from sync.engine.engine import EngineConfig, SyncEngine
from sync.engine.menu import MenuLine
from sync.engine.reads import OPEN_STATUSES
from sync.engine.tickets import STATION_OPEN_ITEMS, station_on_hold
from sync.realtime.connection import ChangeEvent, ConnectionState
from sync.realtime.observable import Observable
from sync.store.claim import SetAside, claim
from sync.store.outbox_rows import OutboxEntry

__all__ = [
    "OPEN_STATUSES",
    "STATION_OPEN_ITEMS",
    "Backoff",
    "ChangeEvent",
    "ConnectionState",
    "EngineConfig",
    "MenuLine",
    "Observable",
    "OutboxEntry",
    "SetAside",
    "SyncEngine",
    "claim",
    "station_on_hold",
]
