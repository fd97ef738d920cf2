"""The companion's configuration, from the environment (or from arguments in tests and the CLI)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from .hub.settings import UpstreamSettings, upstream_from_env

APP_NAME = "kds"


def data_dir() -> Path:
    """Per-user data directory (`KDS_DATA_DIR` overrides it)."""
    override = os.environ.get("KDS_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def persisted_secret(directory: Path) -> str:
    """The embedded default's JWT secret: generated once, kept beside its database (mode 0600)."""
    path = directory / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret


@dataclass(frozen=True)
class RequestLimits:
    """What one client may cost the server (issue 17), enforced before a request is parsed or even read whole.

    The HTTP server (`kds_backend/http_protocol.py`) enforces the header size, the head timeout and the
    connection cap; the app (`kds_backend/body_limits.py`) the body size and body timeout, and checks the token
    of a route that needs one before reading its body. Every refusal is PostgREST's `{code, message, details,
    hint}` with a KDS code: 408 KDS408, 413 KDS413, 431 KDS431, 503 KDS503."""

    max_body_bytes: int = 1_048_576
    """`KDS_MAX_BODY_BYTES`: the largest request body. A declared Content-Length over it is refused before a byte
    of the body is read; a chunked body as soon as it passes it (413)."""
    max_header_bytes: int = 65_536
    """`KDS_MAX_HEADER_BYTES`: request line plus headers (a PostgREST `in` list of 1000 ids is about 37 KiB); 431."""
    header_timeout_s: float = 10.0
    """`KDS_HEADER_TIMEOUT`: seconds to send a whole request head, from connecting (or from the first byte of a
    later request on the connection); else 408 and the connection is closed. A silent connection is closed."""
    body_timeout_s: float = 30.0
    """`KDS_BODY_TIMEOUT`: seconds to send the whole body once the head is in; else 408 and closed."""
    keep_alive_timeout_s: float = 5.0
    """`KDS_KEEP_ALIVE_TIMEOUT`: an idle keep-alive connection is closed after this many seconds (uvicorn's)."""
    max_connections: int = 1000
    """`KDS_MAX_CONNECTIONS`: open HTTP connections and websockets together; one more is answered 503 and
    closed at once. Keep it under the process's open-file limit (`ulimit -n`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RequestLimits:
        env = os.environ if env is None else env
        return cls(
            max_body_bytes=_whole(env, "KDS_MAX_BODY_BYTES", cls.max_body_bytes, 1024, 1 << 30, "bytes"),
            max_header_bytes=_whole(env, "KDS_MAX_HEADER_BYTES", cls.max_header_bytes, 1024, 16 << 20, "bytes"),
            header_timeout_s=_seconds(env, "KDS_HEADER_TIMEOUT", cls.header_timeout_s),
            body_timeout_s=_seconds(env, "KDS_BODY_TIMEOUT", cls.body_timeout_s),
            keep_alive_timeout_s=_seconds(env, "KDS_KEEP_ALIVE_TIMEOUT", cls.keep_alive_timeout_s),
            max_connections=_whole(env, "KDS_MAX_CONNECTIONS", cls.max_connections, 1, 1_000_000, "connections"),
        )


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValueError(f"{name} must be a whole number of {unit} from {low} to {high}, not {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 3600:  # NaN fails this too
        raise ValueError(f"{name} must be seconds from 0.1 to 3600, not {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_secret: str
    access_token_ttl_s: int = 3600
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    cors_origins: list[str] = field(default_factory=list)
    day_end_hour: int = 4
    """`KDS_DAY_END_HOUR`: the local hour the kitchen's day ends; open orders from before it are cleared."""
    timezone: str | None = None
    """`KDS_TIMEZONE`: an IANA zone such as Europe/Paris; None is the server's local zone."""
    auto_clear: bool = True
    """Run the end-of-day clear in the background (off in tests that drive it with their own clock)."""
    refresh_reuse_window_s: float = 24 * 3600.0
    """`KDS_REFRESH_REUSE_WINDOW`: seconds during which a used refresh token presented again (its answer was
    lost, the screen then offline) gets the same, still unused successor back. GoTrue's is 10 s; 10 makes the
    companion as strict (a screen then signs itself in again with its stored password)."""
    ws_compression: bool = False
    """`KDS_WS_COMPRESSION=1`: offer permessage-deflate on Realtime websockets. Off, as on Supabase (Phoenix's
    `compress` default): deflating costs the server a context per socket and every screen an inflate per frame,
    for JSON frames of a few hundred bytes on a LAN."""
    limits: RequestLimits = field(default_factory=RequestLimits)
    """Request size, timeout and connection limits (`KDS_MAX_BODY_BYTES` and the rest; see RequestLimits)."""

    upstream: UpstreamSettings | None = None
    """`KDS_UPSTREAM_URL` and its account (kds_backend/hub): serve as a hub in front of that server. Upstream then
    owns the day-end clear (it reaches the hub as rows), so the hub runs none of its own."""

    @classmethod
    def from_env(cls, database_url: str | None = None, upstream_url: str | None = None) -> Settings:
        """Settings from `KDS_*` variables; with none set, the embedded default in the data directory."""
        directory = data_dir()
        upstream = upstream_from_env(directory, upstream_url)
        url = database_url or os.environ.get("KDS_DATABASE_URL") or f"sqlite:///{directory / 'companion.db'}"
        secret = os.environ.get("KDS_JWT_SECRET") or persisted_secret(directory)
        if len(secret) < 32:
            raise ValueError("KDS_JWT_SECRET must be at least 32 characters")
        return cls(
            database_url=url,
            jwt_secret=secret,
            access_token_ttl_s=int(os.environ.get("KDS_ACCESS_TOKEN_TTL", "3600")),
            rate_limit_per_s=float(os.environ.get("KDS_RATE_LIMIT", "200")),
            rate_limit_burst=int(os.environ.get("KDS_RATE_BURST", "400")),
            day_end_hour=_day_end_hour(os.environ.get("KDS_DAY_END_HOUR", "4")),
            timezone=_timezone(os.environ.get("KDS_TIMEZONE") or None),
            refresh_reuse_window_s=_reuse_window(os.environ.get("KDS_REFRESH_REUSE_WINDOW", "86400")),
            ws_compression=_flag("KDS_WS_COMPRESSION", os.environ.get("KDS_WS_COMPRESSION", "0")),
            limits=RequestLimits.from_env(),
            upstream=upstream,
            auto_clear=upstream is None,
        )


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not {raw!r}")


def _reuse_window(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 30 * 24 * 3600:  # NaN fails this too
        raise ValueError(f"KDS_REFRESH_REUSE_WINDOW must be seconds from 0 to 2592000 (30 days), not {raw!r}")
    return seconds


def _day_end_hour(raw: str) -> int:
    from api_client.business_day import check_hour

    try:
        hour = int(raw)
    except ValueError:
        raise ValueError(f"KDS_DAY_END_HOUR must be a whole hour from 0 to 23, not {raw!r}") from None
    try:
        return check_hour(hour)
    except ValueError:
        raise ValueError(f"KDS_DAY_END_HOUR must be a whole hour from 0 to 23, not {raw!r}") from None


def _timezone(name: str | None) -> str | None:
    """Checked at start-up: a typo must stop the server, not move the day end to the wrong hour."""
    from api_client.business_day import zone

    if name is not None:
        try:
            zone(name)
        except ValueError as exc:
            raise ValueError(f"KDS_TIMEZONE: {exc}") from None
    return name
