"""A disk whose fsync the test holds, fails or counts: `LocalStore(sync_file=disk.sync)`."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.helpers.timeouts import scaled


class HeldDisk:
    """Each fsync waits until `release` is set (set from the start: `held=False`); `failures` are raised first."""

    def __init__(self, *, held: bool = True) -> None:
        self.release = threading.Event()
        if not held:
            self.release.set()
        self.entered = threading.Event()
        self.failures: list[OSError] = []
        self.calls: list[tuple[Path, str]] = []  # (file, thread name) of each fsync started
        self.completed = 0

    def sync(self, path: Path) -> None:
        self.calls.append((path, threading.current_thread().name))
        self.entered.set()
        if not self.release.wait(scaled(30)):
            raise TimeoutError("the test never released the disk")
        if self.failures:
            raise self.failures.pop(0)
        self.completed += 1
