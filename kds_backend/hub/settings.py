"""How a hub reaches its upstream: `KDS_UPSTREAM_*` variables (or `serve --upstream ...`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..env import UPSTREAM_HEARTBEAT_RANGE, KdsEnv, read_env

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
        low, high = UPSTREAM_HEARTBEAT_RANGE  # checked here too: tests and the CLI build these directly
        if not low <= self.heartbeat_s <= high:  # NaN fails this too
            message = f"KDS_UPSTREAM_HEARTBEAT_S must be seconds from {low:g} to {high:g}, not {self.heartbeat_s!r}"
            raise ValueError(message)
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
        return cls.from_values(read_env(env), data_dir, url)

    @classmethod
    def from_values(cls, values: KdsEnv, data_dir: Path, url: str | None = None) -> UpstreamSettings | None:
        url = url or values.upstream_url
        if url is None:
            return None
        return cls(
            url=url.rstrip("/"),
            anon_key=values.upstream_anon_key or "",
            store_path=values.upstream_store or data_dir / STORE_FILE,
            token=values.upstream_token,
            email=values.upstream_email,
            password=values.upstream_password,
            heartbeat_s=values.upstream_heartbeat_s,
        )
