"""The screen's configuration: a small JSON file in the per-user config directory (`KDS_CONFIG` overrides it).

No password is ever stored here; a signed-in screen keeps its (rotating) refresh token in its data directory
(`kds_app.connect`). Every value is checked when the config is built, so a bad file is reported by name and
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
from typing import Any, Literal, get_args

import platformdirs
from pydantic import TypeAdapter, ValidationError

from api_client.models import RestaurantId, Station

__all__ = [
    "DEFAULT_THRESHOLDS",
    "FONT_SIZE_RANGE",
    "LOCAL_RESTAURANT",
    "AppConfig",
    "ConfigError",
    "LayoutKind",
    "ServerKind",
    "ViewKind",
    "config_path",
    "load_config",
    "save_config",
]

ServerKind = Literal["embedded", "companion", "supabase"]
ViewKind = Literal["station", "expo"]
LayoutKind = Literal["paged", "scroll"]

LOCAL_RESTAURANT = "local"
DEFAULT_THRESHOLDS: tuple[int, int] = (300, 480)
FONT_SIZE_RANGE = (12, 40)
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


@dataclass(frozen=True)
class AppConfig:
    server: ServerKind = "embedded"
    url: str | None = None
    anon_key: str | None = None
    email: str | None = None  # the device account's sign-in (companion / Supabase); never a password
    restaurant_id: str = LOCAL_RESTAURANT  # embedded only: elsewhere the signed-in token says which restaurant
    view: ViewKind = "station"
    layout: LayoutKind = "paged"  # the cards a page at a time (whole cards, "page 2/5 · +23 more"), or scrolled
    stations: tuple[str, ...] = ()  # empty: all stations
    thresholds: dict[str, tuple[int, int]] = field(default_factory=dict)  # station -> (yellow_s, red_s)
    default_thresholds: tuple[int, int] = DEFAULT_THRESHOLDS
    font_size: int = 18
    sound: bool = True
    embedded_port: int = 0  # 0: any free port
    allow_rush: bool = False  # a station screen may rush orders too (expo always may)
    keymap: dict[str, Any] = field(default_factory=dict)  # bump bar: action -> key name(s); kds_app.keymap
    ready_board: bool = False  # also open the customer order-ready board (kds_app.ready_board)
    ready_board_names: bool = False  # the board shows customer names beside the numbers
    retention_days: int = 2  # finished orders older than this leave this screen's store (the server keeps them)

    def __post_init__(self) -> None:
        _check_choice("server", self.server, get_args(ServerKind))
        _check_choice("view", self.view, get_args(ViewKind))
        _check_choice("layout", self.layout, get_args(LayoutKind))
        for name in ("url", "anon_key", "email"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{name} must be text or null, not {value!r}", field=name)
        if self.url is not None and not _URL.match(self.url):
            raise ConfigError(f"url must start with http:// or https://, not {self.url!r}", field="url")
        if self.email is not None and "@" not in self.email:
            raise ConfigError(f"email must be an email address, not {self.email!r}", field="email")
        try:
            _RESTAURANT.validate_python(self.restaurant_id)
        except ValidationError:
            raise ConfigError(
                f"restaurant_id must be 1-64 letters, digits or _.:- , not {self.restaurant_id!r}",
                field="restaurant_id",
            ) from None
        if not isinstance(self.stations, tuple):
            raise ConfigError(f"stations must be a list, not {self.stations!r}", field="stations")
        for station in self.stations:
            _check_station("stations", station)
        if len(set(self.stations)) != len(self.stations):
            raise ConfigError(f"stations lists a station twice: {', '.join(self.stations)}", field="stations")
        if not isinstance(self.thresholds, dict):
            raise ConfigError(f"thresholds must be an object, not {self.thresholds!r}", field="thresholds")
        for station, pair in self.thresholds.items():
            _check_station("thresholds", station)
            _check_thresholds(f"thresholds.{station}", pair)
        _check_thresholds("default_thresholds", self.default_thresholds)
        _check_int("font_size", self.font_size, *FONT_SIZE_RANGE)
        if not isinstance(self.sound, bool):
            raise ConfigError(f"sound must be true or false, not {self.sound!r}", field="sound")
        _check_int("embedded_port", self.embedded_port, 0, 65535)
        _check_int("retention_days", self.retention_days, 1, 365)
        if not isinstance(self.allow_rush, bool):
            raise ConfigError(f"allow_rush must be true or false, not {self.allow_rush!r}", field="allow_rush")
        _check_keymap(self.keymap)
        for name in ("ready_board", "ready_board_names"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, not {getattr(self, name)!r}", field=name)

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
        return data

    @classmethod
    def from_json(cls, data: Any) -> AppConfig:
        """From the file's JSON object. Unknown keys are refused (a typo would otherwise be silently ignored)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a JSON object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}", field=unknown[0])
        values = dict(data)
        if "stations" in values:
            stations = values["stations"]
            if not isinstance(stations, list):
                raise ConfigError(f"stations must be a list, not {stations!r}", field="stations")
            values["stations"] = tuple(stations)
        if "thresholds" in values:
            raw = values["thresholds"]
            if not isinstance(raw, Mapping):
                raise ConfigError(f"thresholds must be an object, not {raw!r}", field="thresholds")
            values["thresholds"] = {k: _pair(f"thresholds.{k}", v) for k, v in raw.items()}
        if "default_thresholds" in values:
            values["default_thresholds"] = _pair("default_thresholds", values["default_thresholds"])
        return cls(**values)


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


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        options = ", ".join(str(c) for c in choices)
        raise ConfigError(f"{name} must be one of {options}, not {value!r}", field=name)


def _check_keymap(keymap: object) -> None:
    from .keymap import KeymapError, resolve_keymap  # Qt's key names; imported only when a config is built

    if not isinstance(keymap, dict):
        raise ConfigError(f"keymap must be an object of action: key name, not {keymap!r}", field="keymap")
    try:
        resolve_keymap(keymap)
    except KeymapError as exc:
        raise ConfigError(f"keymap: {exc}", field="keymap") from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be {low}-{high}, not {value!r}", field=name)


def _check_station(name: str, station: object) -> None:
    try:
        _STATION.validate_python(station)
    except ValidationError:
        raise ConfigError(
            f"{name}: {station!r} is not a station name (1-40 lowercase letters, digits, _ or -)", field=name
        ) from None


def _check_thresholds(name: str, pair: object) -> None:
    if (
        not isinstance(pair, tuple)
        or len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
    ):
        raise ConfigError(f"{name} must be two whole numbers of seconds [yellow, red], not {pair!r}", field=name)
    yellow, red = pair
    if not 0 < yellow < red <= _MAX_THRESHOLD_S:
        raise ConfigError(
            f"{name} must have 0 < yellow < red ≤ {_MAX_THRESHOLD_S} seconds, not yellow {yellow}, red {red}",
            field=name,
        )


def _pair(name: str, value: object) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{name} must be two whole numbers of seconds [yellow, red], not {value!r}", field=name)
    return tuple(value)
