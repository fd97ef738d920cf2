"""The engine: `Outbox.submit` records a tap locally; `Uploader` sends the outbox to the server;
`SyncEngine` wires them with the realtime connection and the catch-up read path into one screen's sync."""

from .engine import EngineConfig, SyncEngine
from .outbox import Outbox
from .uploader import IntentSender, Uploader

__all__ = ["EngineConfig", "IntentSender", "Outbox", "SyncEngine", "Uploader"]
