"""The screen's local store: SQLite (WAL; taps fsynced off the UI thread, `wal_sync`) through SQLAlchemy 2 Core.

Server rows (as the server last sent them) and the outbox of pending intents are kept apart; what a screen
shows is the server rows with the pending intents folded over them (`overlay.overlay`).
"""

from .store import LocalStore, default_path

__all__ = ["LocalStore", "default_path"]
