"""The screen's config file: round trip, one readable error per bad value, atomic save, `KDS_CONFIG`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kds_app.startup import config as config_module
from kds_app.startup.config import AppConfig, ConfigError, config_path, load_config, save_config


def full_config() -> AppConfig:
    return AppConfig(
        server="companion",
        url="http://192.168.1.10:8000",
        anon_key="anon.key.value",
        email="grill@kitchen.test",
        view="expo",
        stations=("grill", "fry"),
        thresholds={"grill": (120, 240)},
        default_thresholds=(200, 400),
        font_size=24,
        sound=False,
        embedded_port=8123,
    )


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "nope" / "config.json")
    assert cfg == AppConfig()
    assert (cfg.server, cfg.view, cfg.restaurant_id, cfg.stations, cfg.font_size, cfg.sound) == (
        "embedded",
        "station",
        "local",
        (),
        18,
        True,
    )
    assert cfg.thresholds_for("grill") == (300, 480)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.json"
    cfg = full_config()
    save_config(path, cfg)
    loaded = load_config(path)
    assert loaded == cfg
    assert loaded.stations == ("grill", "fry")
    assert loaded.thresholds_for("grill") == (120, 240)
    assert loaded.thresholds_for("fry") == (200, 400)
    assert loaded.thresholds_for(None) == (200, 400)
    assert "password" not in path.read_text()


def test_a_partial_file_fills_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"font_size": 30, "stations": ["pizza"]}))
    assert load_config(path) == AppConfig(font_size=30, stations=("pizza",))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"font_size": 99}, "font_size must be 12-40, not 99"),
        ({"font_size": "big"}, "font_size must be 12-40, not 'big'"),
        ({"font_size": True}, "font_size must be 12-40, not True"),
        ({"server": "cloud"}, "server must be one of embedded, companion, supabase, not 'cloud'"),
        ({"view": "grid"}, "view must be one of station, expo, not 'grid'"),
        ({"url": "ftp://x"}, "url must start with http:// or https://, not 'ftp://x'"),
        ({"email": "nobody"}, "email must be an email address, not 'nobody'"),
        ({"anon_key": 5}, "anon_key must be text or null, not 5"),
        ({"restaurant_id": "a b"}, "restaurant_id must be 1-64 letters, digits or _.:- , not 'a b'"),
        ({"stations": "grill"}, "stations must be a list, not 'grill'"),
        ({"stations": ["Grill!"]}, "stations: 'Grill!' is not a station name"),
        ({"stations": ["grill", "grill"]}, "stations lists a station twice: grill, grill"),
        ({"thresholds": []}, "thresholds must be an object, not []"),
        ({"thresholds": {"grill": [300]}}, "thresholds.grill must be two whole numbers of seconds"),
        ({"thresholds": {"grill": [500, 300]}}, "thresholds.grill must have 0 < yellow < red"),
        ({"thresholds": {"GRILL": [100, 300]}}, "thresholds: 'GRILL' is not a station name"),
        ({"default_thresholds": [0, 10]}, "default_thresholds must have 0 < yellow < red"),
        ({"default_thresholds": "300"}, "default_thresholds must be two whole numbers of seconds"),
        ({"sound": "yes"}, "sound must be true or false, not 'yes'"),
        ({"embedded_port": 70000}, "embedded_port must be 0-65535, not 70000"),
        ({"retention_days": 0}, "retention_days must be 1-365, not 0"),
        ({"fontsize": 20}, "unknown setting 'fontsize'"),
        ([1, 2], "expected a JSON object, not list"),
    ],
)
def test_each_bad_value_is_named(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.path == path


def test_the_field_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"font_size": 99}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field == "font_size"
    assert str(caught.value).endswith("config.json: font_size must be 12-40, not 99")


def test_malformed_json_names_the_file_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"font_size": 20,\n  "sound": }')
    with pytest.raises(ConfigError, match=r"config\.json: not valid JSON \(line 2, column"):
        load_config(path)


def test_building_a_bad_config_in_code_fails_too() -> None:
    with pytest.raises(ConfigError, match=r"^font_size must be 12-40, not 11$"):
        AppConfig(font_size=11)


def test_save_replaces_atomically_and_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.json"
    save_config(path, AppConfig(font_size=20))
    before = path.read_bytes()

    def broken_fsync(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        save_config(path, AppConfig(font_size=30))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]

    monkeypatch.undo()
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spying_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        # At the moment of the rename the new file is complete on disk, beside the target.
        assert json.loads(Path(src).read_text())["font_size"] == 30
        assert Path(src).parent == path.parent
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(config_module.os, "replace", spying_replace)
    save_config(path, AppConfig(font_size=30))
    assert replaced and replaced[0][1] == str(path)
    assert load_config(path).font_size == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_an_invalid_config_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    save_config(path, AppConfig(font_size=20))
    bad = object.__new__(AppConfig)  # bypasses __post_init__, as a careless caller could
    for name, value in vars(AppConfig(font_size=20)).items():
        object.__setattr__(bad, name, value)
    object.__setattr__(bad, "font_size", 99)
    with pytest.raises(ConfigError, match="font_size"):
        save_config(path, bad)
    assert load_config(path).font_size == 20


def test_kds_config_overrides_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "elsewhere.json"
    monkeypatch.setenv("KDS_CONFIG", str(override))
    assert config_path() == override
    monkeypatch.delenv("KDS_CONFIG")
    default = config_path()
    assert default.name == "config.json" and default.parent.name == "kds"
    assert default != override
