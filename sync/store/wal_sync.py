"""`WalSync`: a tap's commit made durable on a thread of its own, so the cook's redraw never waits for the disk.

A tap is committed at `synchronous=NORMAL`: its WAL frames are written (a `kill -9` loses nothing: they are in the
kernel's page cache) but not fsynced, and the card is redrawn at once. This thread then fsyncs the WAL file, which
makes every commit written before it durable against a power cut too. On this VM's disk that fsync takes 5 ms at
the median and 30-40 ms at the 99th percentile: the whole tail of a tap when the UI thread waited for it.

What no one may do before the fsync: send the tap to the server (`durable()` is the uploader's barrier). A tap the
server applied but a power cut rolled back locally would leave its device sequence number to be used again by the
next tap, which the server would then take for a duplicate. The window a power cut can still take is one fsync
long, and what it takes is a tap the cook saw redrawn a few milliseconds earlier and sees undone after the restart.

SQLite's own rules keep the rest safe at NORMAL: the WAL is synced before each checkpoint copies it into the
database file, and the database file after; the WAL is rewritten from its start only once all of it is in the
(synced) database file. So fsyncing the WAL file as it is now covers every commit made before; and with no WAL
file (the last connection closed, after a synced checkpoint), the database file already holds them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)


def fsync_file(path: Path) -> None:
    """The file's data on disk. Opened for writing: Windows' FlushFileBuffers refuses a read-only handle."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return  # no WAL file: see the module's docstring
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WalSync:
    """Counts commits that skipped their fsync (`committed`) and makes them durable on one worker thread.

    **Parameters:** `wal_path` is the database's `-wal` file; `sync_file` does the fsync (tests pass a slow or
    failing disk).
    """

    def __init__(self, wal_path: Path, sync_file: Callable[[Path], None] = fsync_file) -> None:
        self.wal_path = wal_path
        self.sync_file = sync_file
        self._lock = threading.Lock()
        self._committed = 0  # commits made without their fsync
        self._synced = 0  # of those, how many an fsync has covered
        self._executor: ThreadPoolExecutor | None = None  # started at the first commit: a reader never needs one
        self._closed = False

    @property
    def pending(self) -> bool:
        """Whether a commit is not yet known to be on disk."""
        with self._lock:
            return self._synced < self._committed

    def committed(self) -> None:
        """A commit without fsync has just returned: start its fsync now (on the worker), whoever waits for it."""
        with self._lock:
            self._committed += 1
            target = self._committed
            if self._closed:
                executor = None
            else:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kds-wal-sync")
                executor = self._executor
        if executor is None:
            self._sync_through(target)  # closing: on this thread, before the store goes
            return
        executor.submit(self._sync_through, target).add_done_callback(_log_failure)

    async def durable(self) -> None:
        """Returns once every commit made before the call is on disk; raises if the fsync fails (it is tried again
        at the next call)."""
        with self._lock:
            target = self._committed
            if self._synced >= target:
                return
            executor = self._executor
        if executor is None:  # closed meanwhile: do it here
            self._sync_through(target)
            return
        await asyncio.wrap_future(executor.submit(self._sync_through, target))

    def close(self) -> None:
        """Every commit made so far synced (on this thread), and the worker ended."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            target = self._committed
        if executor is not None:
            executor.shutdown(wait=True)
        self._sync_through(target)

    def _sync_through(self, target: int) -> None:
        with self._lock:
            if self._synced >= target:
                return  # a later fsync (queued before this job ran) covered it
            covers = self._committed  # everything committed before the fsync starts
        self.sync_file(self.wal_path)
        with self._lock:
            self._synced = max(self._synced, covers)


def _log_failure(job: Future[None]) -> None:
    exc = job.exception()
    if exc is not None:
        # The uploader's own wait for the disk fails too and is retried; nothing is sent before an fsync succeeds.
        log.error("fsync of the local store's WAL failed: %s", exc, exc_info=exc)
