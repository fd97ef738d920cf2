"""What a device and a restaurant may take of the realtime server across all their sockets. Sans-I/O.

Per-socket limits (messages per second, channels, filters per join) do not stop a device opening more sockets,
nor a restaurant's many sockets joining at once; both cost the one event loop every restaurant shares (issue 17:
20 heavy joins stalled `/health` for 1-3 s, and another restaurant's events by up to 2.3 s). So, as Supabase
limits a tenant's concurrent users and joins per second, the router holds:

- sockets per device: a socket counts for each device whose token it presented (the handshake's `apikey`, or a
  join's `access_token`: official clients connect with the anon key and join with the user's token);
- joins per second per restaurant, a token bucket; anon tokens (no restaurant) share one;
- filter terms held by a restaurant's channels: each of its changes is tested against its subscriptions that
  the index cannot rule out, so this bounds what one change of one restaurant costs everyone.
"""

from __future__ import annotations

from collections.abc import Hashable

from api_client.models import TokenClaims

from ..auth.tokens import device_metadata
from .config import RealtimeConfig

ANON = ""
"""The join allowance of tokens with no restaurant (they see nothing, but their joins still cost)."""


class TokenBucket:
    """`rate` per second with bursts of `burst`; the time is passed in (sans-I/O)."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self, now: float) -> bool:
        return self.tokens + max(0.0, now - self.at) * self.rate >= self.burst


def device_of(claims: TokenClaims) -> str | None:
    """The device a token is (restaurant and subject), or None for anon and service keys."""
    meta = device_metadata(claims)
    if meta is None or not claims.sub:
        return None
    return f"{meta.restaurant_id}/{claims.sub}"


class Quotas:
    MAX_IDLE_BUCKETS = 10_000
    """Join buckets kept before full (idle) ones are forgotten; only signed tokens create them anyway."""

    def __init__(self, config: RealtimeConfig) -> None:
        self.config = config
        self._joins: dict[str, TokenBucket] = {}
        self._sockets_of: dict[str, set[Hashable]] = {}
        self._devices_of: dict[Hashable, set[str]] = {}
        self._terms: dict[str, int] = {}
        self._held: dict[Hashable, tuple[str, int]] = {}

    def take_join(self, restaurant_id: str | None, now: float) -> bool:
        """One join of this restaurant now; False once its joins per second are spent."""
        key = ANON if restaurant_id is None else restaurant_id
        bucket = self._joins.get(key)
        if bucket is None:
            if len(self._joins) >= self.MAX_IDLE_BUCKETS:
                self._joins = {k: b for k, b in self._joins.items() if not b.full(now)}
            bucket = self._joins[key] = TokenBucket(self.config.joins_per_s, self.config.join_burst, now)
        return bucket.take(now)

    def attach(self, socket: Hashable, device: str | None) -> bool:
        """Count `socket` for `device`; False (and nothing counted) if the device has its sockets already."""
        if device is None:
            return True
        sockets = self._sockets_of.setdefault(device, set())
        if socket in sockets:
            return True
        if len(sockets) >= self.config.max_sockets_per_device:
            if not sockets:
                del self._sockets_of[device]
            return False
        sockets.add(socket)
        self._devices_of.setdefault(socket, set()).add(device)
        return True

    def detach(self, socket: Hashable) -> None:
        """A socket gone: it counts for no device any more."""
        for device in self._devices_of.pop(socket, ()):
            sockets = self._sockets_of.get(device)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self._sockets_of[device]

    def hold(self, channel: Hashable, restaurant_id: str | None, terms: int) -> bool:
        """`channel` holds `terms` filter terms of its restaurant's allowance; False (nothing held) if over it."""
        self.release(channel)
        if restaurant_id is None or terms <= 0:
            return True  # nothing held: a channel with no bindings costs no change anything
        total = self._terms.get(restaurant_id, 0) + terms
        if total > self.config.max_restaurant_filter_terms:
            return False
        self._terms[restaurant_id] = total
        self._held[channel] = (restaurant_id, terms)
        return True

    def release(self, channel: Hashable) -> None:
        held = self._held.pop(channel, None)
        if held is None:
            return
        restaurant_id, terms = held
        left = self._terms.get(restaurant_id, 0) - terms
        if left > 0:
            self._terms[restaurant_id] = left
        else:
            self._terms.pop(restaurant_id, None)

    def terms(self, restaurant_id: str) -> int:
        return self._terms.get(restaurant_id, 0)

    def sockets(self, device: str) -> int:
        return len(self._sockets_of.get(device, ()))
