"""The new-ticket chime, on whatever this machine can play it with, and silence when it cannot.

PySide6-Essentials has no QtMultimedia, so the chime goes through the desktop's own player (PipeWire,
PulseAudio or ALSA) as a detached process: it can never block or crash the screen, and a kitchen PC
without an audio device simply stays quiet (the card's highlight still shows).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess

import resources

log = logging.getLogger(__name__)

PLAYERS = (("pw-play", ()), ("paplay", ()), ("aplay", ("-q",)))

Player = Callable[[Path], bool]


def find_player() -> Player | None:
    for name, args in PLAYERS:
        path = shutil.which(name)
        if path is not None:
            return lambda sound, path=path, args=args: bool(QProcess.startDetached(path, [*args, str(sound)])[0])
    return None


class AlertSound:
    """Plays the chime at most once per `min_gap_s`: a burst of ten orders is one chime, not ten."""

    def __init__(
        self,
        enabled: bool,
        *,
        player: Player | None = None,
        sound: Path = resources.NEW_TICKET_SOUND,
        min_gap_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.sound = sound
        self.min_gap_s = min_gap_s
        self._player = player if player is not None else find_player()
        self._clock = clock
        self._last: float | None = None
        self.played = 0

    def play(self) -> bool:
        if not self.enabled or self._player is None:
            return False
        now = self._clock()
        if self._last is not None and now - self._last < self.min_gap_s:
            return False
        self._last = now
        try:
            ok = self._player(self.sound)
        except OSError as exc:
            log.warning("could not play the alert: %s", exc)
            return False
        self.played += 1
        return ok
