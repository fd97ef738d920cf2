"""The screen's log: JSON lines in `<data dir>/logs/kds.jsonl` (rotated, 5 MB x 5), and a crash log beside it.

Set up once, at start (`kds_app.__main__`); the session fills in who is logging (`session_context`) once the
screen knows its device, restaurant and stations. Format and handlers: `api_client.logs`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from api_client.logs import LogFiles, app_version, install_file_logging, set_context

__all__ = ["LOG_DIR", "session_context", "start_logging"]

LOG_DIR = "logs"
# Libraries that say something at INFO for every request: their failures reach us as exceptions anyway.
_CHATTY = ("httpx", "httpcore", "websockets", "qasync", "uvicorn.access")

log = logging.getLogger(__name__)


def start_logging(data_dir: Path, *, crash_handlers: bool = True) -> LogFiles:
    """The file log at INFO (the terminal keeps showing warnings only), the crash log, the excepthooks."""
    root = logging.getLogger()
    for handler in root.handlers:  # basicConfig's terminal handler: as quiet as before
        if type(handler) is logging.StreamHandler and handler.level == logging.NOTSET:
            handler.setLevel(logging.WARNING)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    files = install_file_logging(data_dir / LOG_DIR, crash_handlers=crash_handlers)
    log.info(
        "screen starting (version %s, pid %d), data in %s", app_version(), os.getpid(), data_dir,
        extra={"event": "start", "data_dir": str(data_dir), "pid": os.getpid()},
    )
    return files


def session_context(*, device: str, restaurant: str, stations: tuple[str, ...], view: str) -> None:
    """Who this screen is, on every line from now on (a new session replaces it)."""
    station = ",".join(stations) or ("expo" if view == "expo" else "all")
    set_context(device=device, restaurant=restaurant, station=station, view=view)
    log.info(
        "session: device %s of %s, %s view, station %s", device, restaurant, view, station,
        extra={"event": "session"},
    )
