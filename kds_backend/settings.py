"""The companion's configuration, from the environment (or from arguments in tests and the CLI)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from api_client.data_dir import data_dir, persisted_secret

from .env import KdsEnv, read_env
from .hub.settings import UpstreamSettings


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
        """From the variables of `env` (default: the process's), checked by `read_env`."""
        return cls.from_values(read_env(env))

    @classmethod
    def from_values(cls, values: KdsEnv) -> RequestLimits:
        return cls(
            max_body_bytes=values.max_body_bytes,
            max_header_bytes=values.max_header_bytes,
            header_timeout_s=values.header_timeout,
            body_timeout_s=values.body_timeout,
            keep_alive_timeout_s=values.keep_alive_timeout,
            max_connections=values.max_connections,
        )


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_secret: str
    access_token_ttl_s: int = 3600
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    cors_origins: list[str] = field(default_factory=list)
    """`KDS_CORS_ORIGINS`: the browser origins (`https://dashboard.example.com`, comma-separated, or `*` for any)
    whose pages may call the companion (kds_backend/cors.py). Empty, the default: no page of another origin may."""
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
    backup_print_after_s: float = 60.0
    """`KDS_BACKUP_PRINT_AFTER`: seconds a station with a backup printer may have no screen online (Realtime
    presence) before its new and changed tickets print there (kds_backend/printing)."""
    backup_print_retry_max_s: float = 30.0
    """`KDS_BACKUP_PRINT_RETRY_MAX`: the longest wait between tries of an unreachable printer (1 s, 2 s, 4 s...)."""
    limits: RequestLimits = field(default_factory=RequestLimits)
    """Request size, timeout and connection limits (`KDS_MAX_BODY_BYTES` and the rest; see RequestLimits)."""

    upstream: UpstreamSettings | None = None
    """`KDS_UPSTREAM_URL` and its account (kds_backend/hub): serve as a hub in front of that server. Upstream then
    owns the day-end clear (it reaches the hub as rows), so the hub runs none of its own."""

    @classmethod
    def from_env(cls, database_url: str | None = None, upstream_url: str | None = None) -> Settings:
        """Settings from `KDS_*` variables; with none set, the embedded default in the data directory. Every
        variable is checked first (kds_backend/env.py), so a bad one stops the start before anything is made."""
        values = read_env()
        directory = data_dir()
        upstream = UpstreamSettings.from_values(values, directory, upstream_url)
        url = database_url or values.database_url or f"sqlite:///{directory / 'companion.db'}"
        return cls(
            database_url=url,
            jwt_secret=values.jwt_secret or persisted_secret(directory),
            access_token_ttl_s=values.access_token_ttl,
            rate_limit_per_s=values.rate_limit,
            rate_limit_burst=values.rate_burst,
            cors_origins=values.cors_origins,
            day_end_hour=values.day_end_hour,
            timezone=values.timezone,
            refresh_reuse_window_s=values.refresh_reuse_window,
            ws_compression=values.ws_compression,
            backup_print_after_s=values.backup_print_after,
            backup_print_retry_max_s=values.backup_print_retry_max,
            limits=RequestLimits.from_values(values),
            upstream=upstream,
            auto_clear=upstream is None,
        )


def cors_origins(raw: str) -> list[str]:
    """`KDS_CORS_ORIGINS` checked at start-up: a browser sends its origin as `scheme://host[:port]`, so a path,
    a trailing slash or a missing scheme would never match and the page would be refused without a word."""
    origins = [part.strip().lower() for part in raw.replace(" ", ",").split(",") if part.strip()]
    if origins == ["*"]:
        return origins
    for origin in origins:
        if not re.fullmatch(r"https?://[^\s/?#*@]+", origin) or origin.endswith(":"):
            raise ValueError(
                f"KDS_CORS_ORIGINS must be origins like https://dashboard.example.com or http://127.0.0.1:5173 "
                f"(scheme, host and port only, comma-separated) or * alone, not {origin!r}"
            )
    return origins
