"""Sans-I/O staleness watchdog: the data path is silent although the socket looks fine.

Fed by the server's heartbeat broadcasts (api_client/server_heartbeat.py), the connection's live/down moments and
the time; `tick(now)` answers True once when a live connection has heard no heartbeat for `limit_s`: the caller
then says so (`stale_since`), catches up over REST and reconnects.

Arming: a connection is watched only from its first heartbeat. A server without heartbeats (an old companion, a
Supabase project without the migration) must not make every screen reconnect every 10 s for ever; such a server
never arms it. The exception is the connection that replaces one the watchdog dropped: that server did send
heartbeats, so silence on the new connection is the same fault, not an old server. It is watched from the moment
it is live, with the wait doubling on each trip in a row (up to `max_limit_s`) so a path that stays stuck
costs a reconnect and a catch-up a minute, not a storm; the first heartbeat ends the run.
"""

from __future__ import annotations


class Watchdog:
    def __init__(self, limit_s: float = 10.0, *, max_limit_s: float = 80.0) -> None:
        if limit_s <= 0 or max_limit_s < limit_s:
            raise ValueError("limit_s must be > 0 and max_limit_s >= limit_s")
        self.limit_s = limit_s
        self.max_limit_s = max_limit_s
        self.trips = 0  # in a row, since the last heartbeat
        self.stale_since: float | None = None
        """When the last heartbeat was heard (or the watched connection went live) while stale; None when fine."""
        self._live = False
        self._armed_at: float | None = None  # last heartbeat (or live moment of a suspect connection)

    @property
    def armed(self) -> bool:
        return self._live and self._armed_at is not None

    def _wait(self) -> float:
        return min(self.limit_s * 2 ** max(0, self.trips - 1), self.max_limit_s) if self.trips else self.limit_s

    def next_deadline(self) -> float | None:
        """When `tick` may trip; None while nothing is watched."""
        return self._armed_at + self._wait() if self.armed and self._armed_at is not None else None

    def live(self, now: float) -> None:
        """Every channel of a (new) connection is live."""
        self._live = True
        # A fresh connection is unarmed unless it replaces one this watchdog dropped (see the module's docstring).
        self._armed_at = now if self.trips else None

    def down(self) -> None:
        """The socket is gone (or a channel left): nothing to watch until live again."""
        self._live = False
        self._armed_at = None

    def beat(self, now: float) -> None:
        """A heartbeat arrived: the data path works."""
        self._armed_at = now
        self.trips = 0
        self.stale_since = None

    def tick(self, now: float) -> bool:
        """True once per trip: silent for the wait while live. The caller catches up and reconnects."""
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return False
        if self.stale_since is None:
            self.stale_since = self._armed_at
        self.trips += 1
        self._armed_at = None  # until the next connection is live
        return True
