"""The engine's write path: `Outbox.submit` records a tap locally; `Uploader` sends the outbox to the server."""

from .outbox import Outbox
from .uploader import IntentSender, Uploader

__all__ = ["IntentSender", "Outbox", "Uploader"]
