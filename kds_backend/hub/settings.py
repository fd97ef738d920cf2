"""How a hub reaches its upstream: `KDS_UPSTREAM_*` variables (or `serve --upstream ...`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

STORE_FILE = "upstream-mirror.sqlite3"


@dataclass(frozen=True)
class UpstreamSettings:
    url: str
    """The upstream server: `https://<ref>.supabase.co` or another companion."""
    anon_key: str
    store_path: Path
    """The hub's copy of upstream (its sync engine's store) and its queue of intents to forward."""
    token: str | None = None
    """A device access token for upstream (`kds-backend token --role admin` there); or email and password."""
    email: str | None = None
    password: str | None = None
    heartbeat_s: float = 25.0
    """`KDS_UPSTREAM_HEARTBEAT_S`: a silently dead upstream link is noticed within twice this (Supabase's clients
    use 25 s); forwarding resumes as soon as a new connection is live."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.heartbeat_s <= 300:  # NaN fails this too
            raise ValueError(f"KDS_UPSTREAM_HEARTBEAT_S must be seconds from 0.5 to 300, not {self.heartbeat_s!r}")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"KDS_UPSTREAM_URL must be an http(s) URL (https://<ref>.supabase.co), not {self.url!r}")
        if not self.anon_key:
            raise ValueError("KDS_UPSTREAM_ANON_KEY is needed with KDS_UPSTREAM_URL (upstream's anon key)")
        if self.token is None and not (self.email and self.password):
            raise ValueError(
                "the hub needs an upstream account: KDS_UPSTREAM_EMAIL and KDS_UPSTREAM_PASSWORD (an admin device "
                "account of upstream's restaurant), or KDS_UPSTREAM_TOKEN"
            )
        if self.token is not None and self.email:
            raise ValueError("set KDS_UPSTREAM_TOKEN or KDS_UPSTREAM_EMAIL/KDS_UPSTREAM_PASSWORD, not both")

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: Path, url: str | None = None) -> UpstreamSettings | None:
        """None when no upstream is configured (`url` from the command line wins over `KDS_UPSTREAM_URL`)."""
        url = url or env.get("KDS_UPSTREAM_URL") or None
        if url is None:
            return None
        store = env.get("KDS_UPSTREAM_STORE")
        raw_heartbeat = env.get("KDS_UPSTREAM_HEARTBEAT_S", "25")
        try:
            heartbeat = float(raw_heartbeat)
        except ValueError:
            message = f"KDS_UPSTREAM_HEARTBEAT_S must be seconds from 0.5 to 300, not {raw_heartbeat!r}"
            raise ValueError(message) from None
        return cls(
            url=url.rstrip("/"),
            anon_key=env.get("KDS_UPSTREAM_ANON_KEY", ""),
            store_path=Path(store) if store else data_dir / STORE_FILE,
            token=env.get("KDS_UPSTREAM_TOKEN") or None,
            email=env.get("KDS_UPSTREAM_EMAIL") or None,
            password=env.get("KDS_UPSTREAM_PASSWORD") or None,
            heartbeat_s=heartbeat,
        )


def upstream_from_env(data_dir: Path, url: str | None = None) -> UpstreamSettings | None:
    return UpstreamSettings.from_env(os.environ, data_dir, url)
