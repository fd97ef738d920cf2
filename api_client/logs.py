"""JSON-lines logging shared by the screen and the companion (stdlib `logging` only).

Here because `api_client` is the base both sides import (`kds_app → sync → api_client ← kds_backend`); nothing in
it knows about either side. One line per record:

    {"ts": "2025-06-01T20:14:03.412+02:00", "level": "WARNING", "logger": "sync.engine.uploader",
     "msg": "refused: bump_item on #A7 Burger: Burger was voided", "device": "…", "restaurant": "r1",
     "station": "grill", "version": "0.1.0", "event": "rejected", "order_number": "A7", …}

* `context` is the one mutable place for who is logging (device, restaurant, station, version): a screen fills it
  when its session starts (the identity is known only after sign-in); `ContextFilter` copies it onto every record.
* Fields passed with `extra={...}` become keys of the line (never overriding ts/level/logger/msg).
* `install_file_logging(dir)`: a rotating `kds.jsonl` (5 MB, 5 kept), `faulthandler` and the excepthooks
  writing `crash.log`; `install_json_stderr()`: the same lines on stderr (`kds-backend serve --log-json`).
"""

from __future__ import annotations

import faulthandler
import json
import logging
import logging.handlers
import sys
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = [
    "CRASH_FILE",
    "LOG_FILE",
    "ContextFilter",
    "JsonFormatter",
    "LogFiles",
    "active_log_file",
    "app_version",
    "clear_context",
    "context",
    "install_file_logging",
    "install_json_stderr",
    "set_context",
    "tail",
]

LOG_FILE = "kds.jsonl"
CRASH_FILE = "crash.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5

# Attributes every LogRecord has: anything else on a record came from `extra` and becomes a key of the line.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_FIRST = ("ts", "level", "logger", "msg")


def app_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("kds")
    except (ImportError, PackageNotFoundError):
        return "unknown"  # a bundle without the package's metadata


context: dict[str, Any] = {"version": app_version()}
"""Who is logging: put on every record by `ContextFilter`. Change it with `set_context`."""


def clear_context() -> None:
    """Back to the version alone (a session ended; a test starts clean)."""
    context.clear()
    context["version"] = app_version()


def set_context(**values: Any) -> None:
    """Set (or, with None, remove) context keys, e.g. `set_context(device=…, restaurant=…, station=…)`."""
    for key, value in values.items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value


class ContextFilter(logging.Filter):
    """Adds `context` to every record it sees (as attributes, unless the record already has one of that name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in context.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (local time with its offset, ms), level, logger, msg, the context, the extras,
    and `exc` (the traceback) when there is one. Values JSON cannot carry are written as their `str`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


_active: Path | None = None


def active_log_file() -> Path | None:
    """The file `install_file_logging` writes to, if it was installed (what SETTINGS' Copy logs reads)."""
    return _active


@dataclass
class LogFiles:
    """What `install_file_logging` set up; `close()` undoes it (tests, or a second install)."""

    path: Path
    crash_path: Path
    handler: logging.Handler
    _crash: IO[str] | None = None
    _saved: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        global _active
        root = logging.getLogger()
        root.removeHandler(self.handler)
        self.handler.close()
        if "level" in self._saved:
            root.setLevel(self._saved["level"])
        if "excepthook" in self._saved:
            sys.excepthook = self._saved["excepthook"]
            threading.excepthook = self._saved["threading_excepthook"]
        if self._crash is not None:
            if faulthandler.is_enabled():
                faulthandler.disable()
            if self._saved.get("faulthandler"):
                faulthandler.enable()
            self._crash.close()
            self._crash = None
        if _active == self.path:
            _active = None


def install_file_logging(
    directory: Path,
    *,
    level: int = logging.INFO,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
    crash_handlers: bool = True,
) -> LogFiles:
    """JSON lines from the root logger (at `level` and above) to `directory/kds.jsonl`, rotated at `max_bytes`
    with `backups` old files kept. With `crash_handlers`: `faulthandler` (a hard crash, a hung thread dumped on
    SIGABRT/SIGSEGV…) and `sys.excepthook`/`threading.excepthook` write to `directory/crash.log`, the hooks also
    logging the traceback as a CRITICAL record."""
    global _active
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    files = LogFiles(path, directory / CRASH_FILE, handler)
    if root.getEffectiveLevel() > level:
        files._saved["level"] = root.level
        root.setLevel(level)
    root.addHandler(handler)
    _active = path
    if crash_handlers:
        crash = files.crash_path.open("a", encoding="utf-8")
        files._crash = crash
        files._saved["faulthandler"] = faulthandler.is_enabled()
        faulthandler.enable(crash)
        files._saved["excepthook"] = sys.excepthook
        files._saved["threading_excepthook"] = threading.excepthook
        sys.excepthook = _excepthook(crash, sys.excepthook)
        threading.excepthook = _threading_excepthook(crash, threading.excepthook)
    return files


def _write_crash(crash: IO[str], where: str, exc: tuple[type[BaseException], BaseException, TracebackType | None]
                 ) -> None:
    try:
        crash.write(f"--- {datetime.now().astimezone().isoformat(timespec='seconds')} {where} ({app_version()})\n")
        crash.write("".join(traceback.format_exception(*exc)))
        crash.flush()
    except (OSError, ValueError):
        pass  # a full disk or a closed file must not hide the original error


def _excepthook(crash: IO[str], previous: Any) -> Any:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            logging.getLogger("kds.crash").critical(
                "uncaught %s: %s", kind.__name__, exc, exc_info=(kind, exc, tb), extra={"event": "crash"}
            )
            _write_crash(crash, "uncaught exception", (kind, exc, tb))
        previous(kind, exc, tb)

    return hook


def _threading_excepthook(crash: IO[str], previous: Any) -> Any:
    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
            name = args.thread.name if args.thread is not None else "?"
            logging.getLogger("kds.crash").critical(
                "uncaught %s in thread %s: %s", args.exc_type.__name__, name, args.exc_value,
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback), extra={"event": "crash", "thread": name},
            )
            _write_crash(crash, f"uncaught exception in thread {name}", (args.exc_type, args.exc_value,
                                                                          args.exc_traceback))
        previous(args)

    return hook


def install_json_stderr(level: int = logging.INFO) -> logging.Handler:
    """The same JSON lines on stderr (a service's log collector reads them): replaces the root's handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def tail(path: Path, lines: int = 200) -> list[str]:
    """The last `lines` lines of `path` (and of the file rotated before it, if `path` holds fewer)."""
    kept: deque[str] = deque(maxlen=lines)
    for candidate in (path.with_name(path.name + ".1"), path):
        try:
            with candidate.open(encoding="utf-8", errors="replace") as f:
                kept.extend(line.rstrip("\n") for line in f)
        except FileNotFoundError:
            continue
    return list(kept)
