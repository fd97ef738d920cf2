"""The screen's configuration: a small JSON file in the per-user config directory (`KDS_CONFIG` overrides it).

No password is ever stored here; a signed-in screen keeps its (rotating) refresh token in its data directory
(`kds_app.startup.connect`). Every value is checked when the config is built, so a bad file is reported by name and
field ("…/config.json: font_size must be 12-40, not 99") instead of failing somewhere later.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api_client.escpos.address import check_address, parse_address
from api_client.models import RestaurantId, Station

__all__ = [
    "DEFAULT_THRESHOLDS",
    "FONT_SIZE_RANGE",
    "LOCAL_RESTAURANT",
    "AppConfig",
    "ConfigError",
    "ConfigFile",
    "LayoutKind",
    "ServerKind",
    "SplitKind",
    "ViewKind",
    "config_path",
    "load_config",
    "save_config",
]

ServerKind = Literal["embedded", "companion", "supabase"]
ViewKind = Literal["station", "expo"]
LayoutKind = Literal["paged", "scroll"]
RealtimeKind = Literal["postgres_changes", "broadcast"]  # sync/realtime/channels.py
# A second pane (issue 19, item 5): expo's whole orders beside the stations, the same tickets split into not
# started | in progress, or a tuple of other stations.
SplitKind = Literal["expo", "status"]
_SPLIT_ALLOWED = 'null, "expo", "status" or a list of other stations'

LOCAL_RESTAURANT = "local"
DEFAULT_THRESHOLDS: tuple[int, int] = (300, 480)
FONT_SIZE_RANGE = (12, 40)
OFFLINE_PRINT_AFTER_RANGE = (5, 3600)
_PRINTER_ALLOWED = 'a network printer\'s "host" or "host:port" (port 9100 by default), or null'
_MAX_THRESHOLD_S = 24 * 3600

_STATION = TypeAdapter(Station)
_RESTAURANT = TypeAdapter(RestaurantId)
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


class ConfigError(ValueError):
    """A configuration value (or file) that cannot be used. The message names the field and is safe to show."""

    def __init__(self, message: str, *, field: str | None = None, path: Path | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.path = path


def _allowed(text: str) -> dict[str, Any]:
    return {"allowed": text}


_TEXT = Field(None, json_schema_extra=_allowed("text or null"))
_FLAG = Field(json_schema_extra=_allowed("true or false"))
_PAIR = "two whole numbers of seconds [yellow, red]"


class ConfigFile(BaseModel):
    """The settings file, as JSON: every key, its type and what is allowed. `AppConfig` is built from it and
    checked by it, so the file, the settings dialog and code all meet the same rules. A refusal names the key and
    what it allows ("font_size must be 12-40, not 99"); `load_config` adds the file."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    server: ServerKind = Field(json_schema_extra=_allowed("one of embedded, companion, supabase"))
    url: str | None = _TEXT
    anon_key: str | None = _TEXT
    email: str | None = _TEXT
    restaurant_id: RestaurantId = Field(json_schema_extra=_allowed("1-64 letters, digits or _.:- "))
    view: ViewKind = Field(json_schema_extra=_allowed("one of station, expo"))
    layout: LayoutKind = Field(json_schema_extra=_allowed("one of paged, scroll"))
    expo_compact: bool = _FLAG
    stations: list[Any] = Field(json_schema_extra=_allowed("a list"))
    thresholds: dict[str, Any] = Field(json_schema_extra=_allowed("an object"))
    default_thresholds: Any = Field(json_schema_extra=_allowed(_PAIR))
    font_size: int = Field(ge=FONT_SIZE_RANGE[0], le=FONT_SIZE_RANGE[1], json_schema_extra=_allowed("12-40"))
    sound: bool = _FLAG
    embedded_port: int = Field(ge=0, le=65535, json_schema_extra=_allowed("0-65535"))
    allow_rush: bool = _FLAG
    keymap: dict[str, Any] = Field(json_schema_extra=_allowed("an object of action: key name"))
    ready_board: bool = _FLAG
    ready_board_names: bool = _FLAG
    retention_days: int = Field(ge=1, le=365, json_schema_extra=_allowed("1-365"))
    realtime: RealtimeKind = Field(json_schema_extra=_allowed("one of postgres_changes, broadcast"))
    settings_pin: str | None = Field(None, json_schema_extra=_allowed("a PIN hash set in SETTINGS, or null"))
    language: str = Field(json_schema_extra=_allowed("a language code this build has a translation for"))
    split: Any = Field(None, json_schema_extra=_allowed(_SPLIT_ALLOWED))
    printer: str | None = Field(None, json_schema_extra=_allowed(_PRINTER_ALLOWED))
    offline_print_after_s: int = Field(
        ge=OFFLINE_PRINT_AFTER_RANGE[0], le=OFFLINE_PRINT_AFTER_RANGE[1], json_schema_extra=_allowed("5-3600")
    )

    @field_validator("url", "anon_key", "email")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(f"{info.field_name} must be text or null, not {value!r}")
        if value is not None and info.field_name == "url" and not _URL.match(value):
            raise ValueError(f"url must start with http:// or https://, not {value!r}")
        if value is not None and info.field_name == "email" and "@" not in value:
            raise ValueError(f"email must be an email address, not {value!r}")
        return value

    @field_validator("settings_pin")
    @classmethod
    def _settings_pin(cls, value: str | None) -> str | None:
        from .pin import is_pin_hash

        if value is not None and not is_pin_hash(value):
            raise ValueError("settings_pin must be a PIN hash set in SETTINGS (never the digits), or null")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        from ..media.language import available_languages  # what resources/i18n holds, in this build

        known = available_languages()
        if value not in known:
            raise ValueError(f"language must be one of {', '.join(known)}, not {value!r}")
        return value

    @field_validator("stations")
    @classmethod
    def _stations(cls, stations: list[Any]) -> list[Any]:
        for station in stations:
            _check_station("stations", station)
        if len(set(stations)) != len(stations):
            raise ValueError(f"stations lists a station twice: {', '.join(stations)}")
        return stations

    @field_validator("printer")
    @classmethod
    def _printer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            host, port = parse_address(value)
        except ValueError:
            host, port = "", 0
        wrong = check_address(host, port) if host else "no host"
        if wrong is not None:
            raise ValueError(f"printer must be {_PRINTER_ALLOWED}, not {value!r} ({wrong})")
        return value

    @field_validator("split")
    @classmethod
    def _split(cls, split: Any) -> Any:
        if split is None or split in ("expo", "status"):
            return split
        if not isinstance(split, list) or not split:
            raise ValueError(f"split must be {_SPLIT_ALLOWED}, not {split!r}")
        for station in split:
            _check_station("split", station)
        if len(set(split)) != len(split):
            raise ValueError(f"split lists a station twice: {', '.join(split)}")
        return split

    @model_validator(mode="after")
    def _split_fits_view(self) -> ConfigFile:
        """A second pane must show something the first does not."""
        split = self.split
        if split == "expo" and self.view == "expo":
            raise ValueError('split "expo" needs view "station": this screen is expo already')
        if isinstance(split, list):
            if self.view == "expo":
                raise ValueError('split with stations needs view "station" (expo shows every station)')
            if not self.stations:
                raise ValueError("split with stations needs stations for the first pane (empty is every station)")
            both = [s for s in split if s in self.stations]
            if both:
                raise ValueError(f"split: {', '.join(both)} is in stations too: each pane shows its own stations")
        return self

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, thresholds: dict[str, Any]) -> dict[str, Any]:
        for station, pair in thresholds.items():
            _check_station("thresholds", station)
            _check_pair(f"thresholds.{station}", pair)
        return thresholds

    @field_validator("default_thresholds")
    @classmethod
    def _default_thresholds(cls, pair: Any) -> Any:
        _check_pair("default_thresholds", pair)
        return pair

    @field_validator("keymap")
    @classmethod
    def _keymap(cls, keymap: dict[str, Any]) -> dict[str, Any]:
        from ..input.key_map import KeymapError, resolve_keymap  # Qt's key names; imported only when checked

        try:
            resolve_keymap(keymap)
        except KeymapError as exc:
            raise ValueError(f"keymap: {exc}") from None
        return keymap

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> ConfigFile:
        """`data` checked; ConfigError names the first bad key (its dotted path) and what it allows."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _config_error(exc.errors()[0]) from None


def _config_error(error: Mapping[str, Any]) -> ConfigError:
    loc = [str(part) for part in error["loc"]]
    name = loc[0] if loc else ""
    if error["type"] == "extra_forbidden":
        return ConfigError(f"unknown setting {name!r}", field=name)
    said = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error":
        return ConfigError(said, field=said.split(" ", 1)[0].rstrip(":"))
    info = ConfigFile.model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    allowed = extra.get("allowed") if isinstance(extra, dict) else None
    if allowed is None:  # not expected: every field says what it allows
        return ConfigError(f"{'.'.join(loc)}: {said}", field=name)
    return ConfigError(f"{name} must be {allowed}, not {error.get('input')!r}", field=name)


@dataclass(frozen=True)
class AppConfig:
    """The screen's settings as the app uses them (tuples, frozen); every value checked by `ConfigFile`."""

    server: ServerKind = "embedded"
    url: str | None = None
    anon_key: str | None = None
    email: str | None = None  # the device account's sign-in (companion / Supabase); never a password
    restaurant_id: str = LOCAL_RESTAURANT  # embedded only: elsewhere the signed-in token says which restaurant
    view: ViewKind = "station"
    layout: LayoutKind = "paged"  # the cards a page at a time (whole cards, "page 2/5 · +23 more"), or scrolled
    expo_compact: bool = False  # expo starts in compact rows (one line an order, a chip a station); COMPACT toggles
    stations: tuple[str, ...] = ()  # empty: all stations
    thresholds: dict[str, tuple[int, int]] = field(default_factory=dict)  # station -> (yellow_s, red_s)
    default_thresholds: tuple[int, int] = DEFAULT_THRESHOLDS
    font_size: int = 18
    sound: bool = True
    embedded_port: int = 0  # 0: any free port
    allow_rush: bool = False  # a station screen may rush orders too (expo always may)
    keymap: dict[str, Any] = field(default_factory=dict)  # bump bar: action -> key name(s); kds_app.input.key_map
    ready_board: bool = False  # also open the customer order-ready board (kds_app.panels.ready_board)
    ready_board_names: bool = False  # the board shows customer names beside the numbers
    retention_days: int = 2  # finished orders older than this leave this screen's store (the server keeps them)
    # Where row changes come from: `postgres_changes`, or `broadcast`, the restaurant's private Broadcast from
    # Database topic (the choice on Supabase once its migration is applied; the companion speaks both).
    realtime: RealtimeKind = "postgres_changes"
    settings_pin: str | None = None  # SETTINGS asks for this PIN first: its salted hash (kds_app.startup.pin)
    language: str = "en"  # the screen's words: "en" or a translation in resources/i18n (kds_app.media.language)
    split: SplitKind | tuple[str, ...] | None = None  # a second pane beside the first (None: one pane)
    # The screen's own ESC/POS printer (issue 19 item 3): its open tickets go on paper once it has reached no server
    # for `offline_print_after_s` (kds_app/printing). None: no printer.
    printer: str | None = None
    offline_print_after_s: int = 60

    def __post_init__(self) -> None:
        ConfigFile.check(_as_file(self))
        # Lists given in code are taken as the tuples the app compares and hashes.
        if isinstance(self.stations, list):
            object.__setattr__(self, "stations", tuple(self.stations))
        if isinstance(self.default_thresholds, list):
            object.__setattr__(self, "default_thresholds", tuple(self.default_thresholds))
        if isinstance(self.split, list):
            object.__setattr__(self, "split", tuple(self.split))
        if any(isinstance(v, list) for v in self.thresholds.values()):
            object.__setattr__(self, "thresholds", {k: tuple(v) for k, v in self.thresholds.items()})

    def thresholds_for(self, station: str | None) -> tuple[int, int]:
        """(yellow_s, red_s): a ticket's age turns yellow, then red. The station's own, else the default."""
        if station is not None and station in self.thresholds:
            return self.thresholds[station]
        return self.default_thresholds

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stations"] = list(self.stations)
        data["thresholds"] = {k: list(v) for k, v in self.thresholds.items()}
        data["default_thresholds"] = list(self.default_thresholds)
        if isinstance(self.split, tuple):
            data["split"] = list(self.split)
        return data

    @classmethod
    def from_json(cls, data: Any) -> AppConfig:
        """From the file's JSON object; a key left out keeps its default. Unknown keys are refused (a typo would
        otherwise be silently ignored)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a JSON object, not {type(data).__name__}")
        return cls(**ConfigFile.check({**_as_file(cls()), **data}).model_dump())


def _as_file(cfg: AppConfig) -> dict[str, Any]:
    """`cfg`'s values as the file holds them (lists for tuples); anything else left as it is, to be refused."""
    data = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    for name in ("stations", "default_thresholds", "split"):
        if isinstance(data[name], tuple):
            data[name] = list(data[name])
    if isinstance(data["thresholds"], dict):
        data["thresholds"] = {k: list(v) if isinstance(v, tuple) else v for k, v in data["thresholds"].items()}
    return data


def config_path() -> Path:
    """`KDS_CONFIG`, else `config.json` in the per-user config directory."""
    override = os.environ.get("KDS_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("kds", appauthor=False)) / "config.json"


def load_config(path: Path) -> AppConfig:
    """The config in `path`; the defaults when there is no file. `ConfigError` names the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AppConfig()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}", path=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", path=path
        ) from None
    try:
        return AppConfig.from_json(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", field=exc.field, path=path) from None
    except TypeError as exc:  # a value of a shape the dataclass cannot even take
        raise ConfigError(f"{path}: {exc}", path=path) from None


def save_config(path: Path, cfg: AppConfig) -> None:
    """Atomically: a temporary file beside it is written and fsynced, then renamed over it. On any failure the
    old file is left as it was and the temporary file is removed."""
    AppConfig.from_json(cfg.to_json())  # the saved file must load again
    text = json.dumps(cfg.to_json(), indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path` (created 0600), fsync it, rename it over `path` and
    fsync the directory: a crash leaves the old file or the new one, never half of either."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); directories cannot be opened this way on Windows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- checks


def _check_station(name: str, station: object) -> None:
    try:
        _STATION.validate_python(station)
    except ValidationError:
        message = f"{name}: {station!r} is not a station name (1-40 lowercase letters, digits, _ or -)"
        raise ValueError(message) from None


def _check_pair(name: str, pair: object) -> None:
    if (
        not isinstance(pair, list | tuple)
        or len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
    ):
        raise ValueError(f"{name} must be {_PAIR}, not {pair!r}")
    yellow, red = pair
    if not 0 < yellow < red <= _MAX_THRESHOLD_S:
        raise ValueError(
            f"{name} must have 0 < yellow < red ≤ {_MAX_THRESHOLD_S} seconds, not yellow {yellow}, red {red}"
        )
