"""What a device and a restaurant may take of the realtime server across all their sockets. Sans-I/O.

Per-socket limits (messages per second, channels, filters per join) do not stop a device opening more sockets,
nor a restaurant's many sockets joining at once; both cost the one event loop every restaurant shares (issue 17:
20 heavy joins stalled `/health` for 1-3 s, and another restaurant's events by up to 2.3 s). So, as Supabase
limits a tenant's concurrent users and joins per second, the router holds:

- sockets per device: a socket counts for each device whose token it presented (the handshake's `apikey`, or a
  join's `access_token`: official clients connect with the anon key and join with the user's token);
- joins per second per restaurant, a token bucket; anon tokens (no restaurant) share one;
- filter terms held by a restaurant's channels: each of its changes is tested against its subscriptions that
  the index cannot rule out, so this bounds what one change of one restaurant costs everyone;
- bytes per second per restaurant (its sockets' frames and what they make the server send), spent after the
  fact: the server holds back the reading of a socket whose restaurant is over it (`spend_bytes`).
"""

from __future__ import annotations

from collections.abc import Hashable

from api_client.models import TokenClaims

from ..auth.tokens import device_metadata
from ..token_bucket import Buckets, TokenBucket
from .config import RealtimeConfig

ANON = ""
"""The join allowance of tokens with no restaurant (they see nothing, but their joins still cost)."""


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
        self._joins: Buckets[str] = Buckets(config.joins_per_s, config.join_burst, self.MAX_IDLE_BUCKETS)
        self._bytes: Buckets[str] = Buckets(config.bytes_per_s, config.bytes_burst, self.MAX_IDLE_BUCKETS)
        self._sockets_of: dict[str, set[Hashable]] = {}
        self._devices_of: dict[Hashable, set[str]] = {}
        self._terms: dict[str, int] = {}
        self._held: dict[Hashable, tuple[str, int]] = {}

    def take_join(self, restaurant_id: str | None, now: float) -> bool:
        """One join of this restaurant now; False once its joins per second are spent."""
        return self._joins.get(ANON if restaurant_id is None else restaurant_id, now).take(now)

    def spend_bytes(self, restaurant_id: str, nbytes: int, now: float) -> float:
        """`nbytes` of this restaurant's now: the seconds its sockets' reading should wait (0 within its allowance)."""
        return self._bytes.get(restaurant_id, now).spend(nbytes, now)

    def byte_bucket(self, now: float) -> TokenBucket:
        """A full allowance of bytes (one per restaurant here; a socket without one gets its own)."""
        return TokenBucket(self.config.bytes_per_s, self.config.bytes_burst, now)

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
