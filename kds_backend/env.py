"""Every `KDS_*` variable the companion reads, in one pydantic-settings model: its type, default and allowed range.

`read_env()` reads and checks them all at once, so a bad value stops `kds-backend serve` (and the companion
embedded in `kds`) at start with one line per variable: its name, the value given and what is allowed
(`KDS_ACCESS_TOKEN_TTL must be a whole number of seconds from 10 to 604800, not '1h'`), never a traceback or a
server that runs on a value nobody meant. `Settings.from_env`, `RequestLimits.from_env`, `RealtimeConfig.from_env`
and `UpstreamSettings.from_env` build their dataclasses from it; the README's variables table is `env_table()`
(a test keeps the two equal).

This module imports nothing of the companion's but the realtime frame size, so anything may import it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from .realtime.protocol import MAX_FRAME_BYTES

PREFIX = "KDS_"

MIN_SEND_QUEUE_BYTES = 2 * MAX_FRAME_BYTES + 65_536
"""Room for two of the largest frames a client may send (a broadcast is relayed about as large), so one broadcast
never closes every receiver."""

UPSTREAM_HEARTBEAT_RANGE = (0.5, 300.0)
JWT_SECRET_MIN = 32


class SettingsError(ValueError):
    """Bad `KDS_*` values: `problems` holds one line per variable, each naming it and what it allows."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _number(value: float) -> str:
    """1073741824, 0.1, 3600: as a person types them (no exponent, no trailing .0)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _extra(allowed: str, shown_default: str | None = None, secret: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {"allowed": allowed, "secret": secret}
    if shown_default is not None:
        extra["shown_default"] = shown_default
    return extra


def _whole(default: int, low: int, high: int, unit: str, doc: str) -> Any:
    allowed = f"a whole number of {unit} from {_number(low)} to {_number(high)}"
    return Field(default, ge=low, le=high, description=doc, json_schema_extra=_extra(allowed))


def _seconds(default: float | None, low: float, high: float, doc: str, shown_default: str | None = None) -> Any:
    allowed = f"seconds from {_number(low)} to {_number(high)}"
    return Field(default, ge=low, le=high, description=doc, json_schema_extra=_extra(allowed, shown_default))


def _per_second(default: float, low: float, high: float, doc: str) -> Any:
    allowed = f"a number per second from {_number(low)} to {_number(high)}"
    return Field(default, ge=low, le=high, description=doc, json_schema_extra=_extra(allowed))


def _text(doc: str, allowed: str, shown_default: str, secret: bool = False) -> Any:
    return Field(None, description=doc, json_schema_extra=_extra(allowed, shown_default, secret))


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("kds_environ", default=None)


class _Environ(EnvSettingsSource):
    """The process environment, or the mapping `read_env` was given (tests, a child's environment)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _ENVIRON.get()
        environ = os.environ if given is None else given
        # A value of only spaces is unset, as an empty one is (the variables were read that way before).
        environ = {k: v for k, v in environ.items() if v.strip()}
        return parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class KdsEnv(BaseSettings):
    """The companion's `KDS_*` variables (`KDS_` + the field's name in capitals). Each field's description is what
    the README's table says it does; `allowed` is what its refusal and the table say is allowed."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", allow_inf_nan=False, frozen=True
    )

    # -- where, and the secret
    data_dir: Path | None = _text(
        "where the companion keeps its default database, JWT secret and a hub's mirror; the screen its store and logs",
        "a directory",
        "the user data directory (`~/.local/share/kds`, platformdirs)",
    )
    database_url: str | None = _text(
        "the database: SQLite or PostgreSQL",
        "a SQLAlchemy URL: sqlite:///path or postgresql://user:pw@host/db",
        "`sqlite:///<data dir>/companion.db`",
    )
    jwt_secret: str | None = _text(
        "HS256 secret every token is signed with",
        f"at least {JWT_SECRET_MIN} characters",
        "generated once, kept in `<data dir>/jwt-secret` (0600)",
        secret=True,
    )
    # -- sessions and request rate
    access_token_ttl: int = _whole(
        3600, 10, 604_800, "seconds", "lifetime of a device's access token (at most a week, as on Supabase)"
    )
    refresh_reuse_window: float = _seconds(
        86_400,
        0,
        30 * 86_400,
        "seconds a used refresh token whose answer was lost still gets its (unused) successor back; 10 is GoTrue's",
    )
    rate_limit: float = _per_second(
        200, 0.01, 1_000_000, "requests per second per token; over it 429 with `Retry-After`"
    )
    rate_burst: int = _whole(400, 1, 10_000_000, "requests", "requests a token may send at once above its rate")
    # -- the kitchen day
    day_end_hour: int = Field(
        4,
        ge=0,
        le=23,
        description="the local hour the kitchen's day ends: open orders from before it are cleared",
        json_schema_extra=_extra("a whole hour from 0 to 23"),
    )
    timezone: str | None = _text(
        "the zone of KDS_DAY_END_HOUR", "an IANA time zone such as Europe/Paris", "this machine's zone"
    )
    # -- realtime transport
    ws_compression: bool = Field(
        False,
        description="offer permessage-deflate on Realtime websockets (off, as on Supabase: frames are small)",
        json_schema_extra=_extra("1 or 0 (true/false, yes/no, on/off)"),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        [],
        description="browser origins whose pages may call the companion (kds_backend/cors.py); none by default",
        json_schema_extra=_extra(
            "origins like https://dashboard.example.com or http://127.0.0.1:5173 (scheme, host and port only, "
            "comma-separated) or * alone",
            "none",
        ),
    )
    # -- backup printing (kds_backend/printing)
    backup_print_after: float = _seconds(
        60.0, 0.1, 3600, "seconds a station with a backup printer may have no screen online before its tickets print"
    )
    backup_print_retry_max: float = _seconds(
        30.0, 0.1, 3600, "the longest wait between tries of an unreachable printer"
    )
    # -- request limits (RequestLimits)
    max_body_bytes: int = _whole(1_048_576, 1024, 1 << 30, "bytes", "the largest request body (413)")
    max_header_bytes: int = _whole(65_536, 1024, 16 << 20, "bytes", "request line plus headers (431)")
    header_timeout: float = _seconds(10.0, 0.1, 3600, "seconds to send a whole request head (408)")
    body_timeout: float = _seconds(30.0, 0.1, 3600, "seconds to send the body once the head is in (408)")
    keep_alive_timeout: float = _seconds(5.0, 0.1, 3600, "an idle keep-alive connection is closed after this")
    max_connections: int = _whole(
        1000, 1, 1_000_000, "connections", "open HTTP connections and websockets together (503); under ulimit -n"
    )
    # -- realtime limits (RealtimeConfig)
    realtime_heartbeat_timeout_s: float = _seconds(60.0, 0.1, 3600, "a socket silent this long is closed")
    realtime_send_queue: int = _whole(2000, 10, 1_000_000, "frames", "frames waiting for one socket; more closes it")
    realtime_send_queue_bytes: int = _whole(
        4 << 20, MIN_SEND_QUEUE_BYTES, 1 << 30, "bytes", "memory of the frames waiting for one socket; more closes it"
    )
    realtime_max_channels: int = _whole(100, 1, 10_000, "channels", "channels joined on one socket")
    realtime_max_bindings: int = _whole(100, 1, 10_000, "bindings", "postgres_changes bindings in one join")
    realtime_max_filter_terms: int = _whole(200, 1, 100_000, "terms", "filter terms over all bindings of one join")
    realtime_max_restaurant_filter_terms: int = _whole(
        10_000, 1, 10_000_000, "terms", "filter terms held by all of one restaurant's channels"
    )
    realtime_max_sockets_per_device: int = _whole(10, 1, 100_000, "sockets", "sockets open for one device token")
    realtime_joins_per_s: float = _per_second(100.0, 0.01, 1_000_000, "channel joins per restaurant")
    realtime_join_burst: int = _whole(200, 1, 1_000_000, "joins", "channel joins per restaurant at once")
    realtime_messages_per_s: float = _per_second(200.0, 0.01, 1_000_000, "messages per socket; over it closes it")
    realtime_message_burst: int = _whole(400, 1, 1_000_000, "messages", "messages per socket at once")
    realtime_bytes_per_s: float = _per_second(
        1_048_576.0, 1024, 1 << 30, "bytes per restaurant: its sockets' frames and what they make the server send"
    )
    realtime_bytes_burst: int = _whole(
        2 << 20, 65_536, 1 << 30, "bytes", "bytes per restaurant at once; over it, its sockets' next frames wait"
    )
    realtime_tick_s: float | None = _seconds(
        None,
        0.1,
        3600,
        "how often heartbeat silence and token expiry are checked",
        "1, or a tenth of the heartbeat timeout if less",
    )
    # -- a kitchen hub's upstream (UpstreamSettings)
    upstream_url: str | None = _text(
        "run as a kitchen hub in front of this Supabase project or companion (or `serve --upstream URL`)",
        "an http(s) URL such as https://<ref>.supabase.co",
        "none: a plain companion",
    )
    upstream_anon_key: str | None = _text("upstream's anon key (needed with KDS_UPSTREAM_URL)", "text", "none")
    upstream_email: str | None = _text(
        "the hub's upstream account: an **admin** device of the restaurant (it forwards every LAN screen's taps under "
        "their own device ids); its session is kept in `<store>.session.json` (0600)",
        "an email, with KDS_UPSTREAM_PASSWORD",
        "none",
    )
    upstream_password: str | None = _text(
        "that account's password", "text, with KDS_UPSTREAM_EMAIL", "none", secret=True
    )
    upstream_token: str | None = _text(
        "instead of email and password: an admin device token (`kds-backend token --role admin` on an upstream "
        "companion)",
        "a token, without KDS_UPSTREAM_EMAIL",
        "none",
        secret=True,
    )
    upstream_store: Path | None = _text(
        "the hub's copy of upstream and its queue of taps to forward",
        "a file path",
        "`<data dir>/upstream-mirror.sqlite3`",
    )
    upstream_heartbeat_s: float = _seconds(
        25.0,
        *UPSTREAM_HEARTBEAT_RANGE,
        "a silently dead upstream link is noticed within twice this; forwarding resumes once a new connection is live",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environ(settings_cls))  # no .env file: the environment alone, as before

    @field_validator("ws_compression", mode="before")
    @classmethod
    def _flag_spaces(cls, raw: Any) -> Any:
        return raw.strip() if isinstance(raw, str) else raw

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, raw: Any) -> Any:
        from .settings import cors_origins  # a comma-separated list, not JSON; checked where CORS is explained

        return cors_origins(raw) if isinstance(raw, str) else raw

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"(sqlite|postgres|postgresql)(\+\w+)?://", url):
            raise ValueError("not a sqlite:// or postgresql:// URL")
        return url

    @field_validator("jwt_secret")
    @classmethod
    def _secret_length(cls, secret: str | None) -> str | None:
        if secret is not None and len(secret) < JWT_SECRET_MIN:
            raise ValueError("too short")
        return secret

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str | None) -> str | None:
        # Checked at start-up: a typo must stop the server, not move the day end to the wrong hour.
        from api_client.business_day import zone

        if name is not None:
            zone(name)
        return name


def variable(field: str) -> str:
    return PREFIX + field.upper()


def _info(field: str) -> tuple[FieldInfo, dict[str, Any]]:
    info = KdsEnv.model_fields[field]
    extra = info.json_schema_extra
    return info, extra if isinstance(extra, dict) else {}


def _problem(error: Mapping[str, Any]) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    if field not in KdsEnv.model_fields:
        return str(error["msg"])
    _, extra = _info(field)
    said = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error" and said.startswith(variable(field)):
        return said  # the check said it better (which part of a list is wrong)
    raw = error.get("input")
    shown = f"a {len(raw)}-character value" if extra.get("secret") and isinstance(raw, str) else repr(raw)
    return f"{variable(field)} must be {extra['allowed']}, not {shown}"


@contextmanager
def _environ(env: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRON.set(env)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


def read_env(env: Mapping[str, str] | None = None) -> KdsEnv:
    """Every `KDS_*` variable of `env` (default: this process's environment), checked; SettingsError names each
    bad one with what it allows."""
    with _environ(env):
        try:
            return KdsEnv()
        except ValidationError as exc:
            raise SettingsError([_problem(e) for e in exc.errors()]) from None


# -- the README's table

OTHER_VARIABLES: tuple[tuple[str, str, str, str], ...] = (
    ("KDS_CONFIG", "`~/.config/kds/config.json`", "a file path", "the screen's (`kds`) settings file"),
    ("KDS_TRACE_FILE", "none: off", "a file path", "stage timestamps for `bench/e2e_paint.py`, as JSON lines"),
    ("KDS_TRACE_FLUSH_S", "1", "seconds from 0.01 to 3600", "how often those timestamps are written"),
    ("KDS_PLANTED_BUGS", "none", "names, comma-separated", "the fault harness's planted defects (tests only)"),
)
"""Variables read outside the companion: by the screen (`KDS_DATA_DIR` too, its data directory), the benchmarks
and the fault harness."""


def _shown_default(field: str) -> str:
    info, extra = _info(field)
    if "shown_default" in extra:
        return str(extra["shown_default"])
    default = info.default
    if isinstance(default, bool):
        return "`1`" if default else "`0`"
    return f"`{_number(default)}`" if isinstance(default, int | float) else f"`{default}`"


def env_table() -> str:
    """The README's table of every `KDS_*` variable: name, default, what is allowed, what it does."""
    rows = ["| variable | default | allowed | what it does |", "|---|---|---|---|"]
    for field in KdsEnv.model_fields:
        info, extra = _info(field)
        rows.append(f"| `{variable(field)}` | {_shown_default(field)} | {extra['allowed']} | {info.description} |")
    for name, default, allowed, doc in OTHER_VARIABLES:
        rows.append(f"| `{name}` | {default} | {allowed} | {doc} |")
    return "\n".join(rows) + "\n"


__all__ = ["MIN_SEND_QUEUE_BYTES", "KdsEnv", "SettingsError", "env_table", "read_env", "variable"]
