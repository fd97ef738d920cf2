"""When a screen's own printer prints, and what: no I/O, no clock of its own (the caller passes the time).

The screen falls back to paper once it has reached no server for `after_s` without a break: its realtime connection
stayed connecting, reconnecting or offline the whole time. Joining (the socket is open) counts as reached: the
server answered. Then every open ticket it shows that it has not printed yet prints once; a printed ticket that
changes later does not print again (the companion reprints changes, but a screen alone only has its own taps)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from api_client.escpos.slip import worth_printing
from sync import ConnectionState

UNREACHED = frozenset({ConnectionState.CONNECTING, ConnectionState.RECONNECTING, ConnectionState.OFFLINE})


class OfflineClock:
    """Since when this screen has reached no server, from the connection states it has been through."""

    def __init__(self, after_s: float, state: ConnectionState, now: float) -> None:
        self.after_s = after_s
        self.unreached_since: float | None = now if state in UNREACHED else None

    def note(self, state: ConnectionState, now: float) -> None:
        """The connection is now in `state` (at monotonic `now`)."""
        if state not in UNREACHED:
            self.unreached_since = None
        elif self.unreached_since is None:
            self.unreached_since = now

    def due_at(self) -> float | None:
        """When the screen falls back to paper if nothing is reached before; None while a server is reached."""
        return None if self.unreached_since is None else self.unreached_since + self.after_s

    def on_paper(self, now: float) -> bool:
        due = self.due_at()
        return due is not None and now >= due


def to_print(tickets: Iterable[tuple[str, dict[str, Any]]], done: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
    """Of the open `tickets` (key, slip), those to print now: not printed (nor queued) yet, in `done`, and with
    something left to cook."""
    return [(key, slip) for key, slip in tickets if key not in done and worth_printing(slip, printed_before=False)]
