"""Handing freed realtime memory back to the operating system.

A slow consumer's dropped frames are freed to the C allocator, but glibc keeps freed heap pages mapped while
other objects sit above them, so the process's RSS stayed up by what a stuck socket had held (issue 17: about
200 MiB after three stuck sockets closed). `malloc_trim(0)` returns those pages. It walks the heap, so it runs
from the realtime tick, and only after at least `threshold` bytes of frames were dropped since the last trim.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

TRIM_THRESHOLD_BYTES = 1 << 20


def _glibc(function: str, argtypes: list[Any]) -> Callable[..., int] | None:
    """A function of glibc's allocator, or None where there is none (musl, macOS): there freeing is left to the
    allocator."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        found = getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):
        return None
    found.argtypes = argtypes
    found.restype = ctypes.c_int
    return found  # type: ignore[no-any-return]


def _malloc_trim() -> Callable[[int], int] | None:
    return _glibc("malloc_trim", [ctypes.c_size_t])


M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc malloc.h)
MMAP_THRESHOLD_BYTES = 256 << 10


def pin_mmap_threshold(nbytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Allocations of `nbytes` and more come from mmap and go back to the system when freed, whatever happened
    before. glibc raises the threshold to the size of each mmapped block freed (up to 32 MiB), so after a few
    broadcasts of near a MiB the next ones were carved from the heap, where the holes they left kept the RSS up
    after a flood (issue 17's soak). Whether it could be set (glibc only)."""
    mallopt = _glibc("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, nbytes))


class FreedMemory:
    """Counts the bytes of frames dropped since the last trim; `release()` trims once enough were."""

    def __init__(self, threshold: int = TRIM_THRESHOLD_BYTES, trim: Callable[[int], int] | None = None) -> None:
        self.threshold = threshold
        self.pending = 0
        self._trim = trim if trim is not None else _malloc_trim()

    def add(self, nbytes: int) -> None:
        self.pending += max(0, nbytes)

    def release(self) -> bool:
        """Trim if at least `threshold` bytes were dropped since the last time; whether it trimmed."""
        if self.pending < self.threshold or self._trim is None:
            return False
        log.info("realtime: returning freed memory after dropping %d bytes of queued frames", self.pending)
        self.pending = 0
        self._trim(0)
        return True
