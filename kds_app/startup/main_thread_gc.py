"""Cyclic garbage collection kept on the UI thread (see `MainThreadGC`). Light on purpose: imported at launch."""

from __future__ import annotations

import gc

__all__ = ["MainThreadGC"]


class MainThreadGC:
    """Keeps Python's cyclic garbage collection on the UI thread while the companion thread runs.

    Automatic collection runs in whichever thread happens to allocate; if that is the server thread, Qt objects
    in cyclic garbage (qasync's timers and socket notifiers, widgets) are destroyed on the wrong thread:
    "QObject::~QObject: Timers cannot be stopped from another thread", then a segmentation fault. So while
    this is active, automatic collection is off and `tick()` (from a QTimer on the UI thread, e.g. every
    500 ms) collects, generation by generation, as the automatic collector would have. Usable as a context
    manager (tests: then the garbage is collected on entry and exit).
    """

    def __init__(self) -> None:
        self._was_enabled: bool | None = None

    def start(self) -> None:
        if self._was_enabled is None:
            self._was_enabled = gc.isenabled()
            gc.collect()
            gc.disable()

    def tick(self) -> None:
        """Collect what the automatic collector would collect now."""
        threshold = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > threshold[generation] > 0:
                gc.collect(generation)
                return

    def stop(self) -> None:
        if self._was_enabled is not None:
            gc.collect()
            if self._was_enabled:
                gc.enable()
            self._was_enabled = None

    def __enter__(self) -> MainThreadGC:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
