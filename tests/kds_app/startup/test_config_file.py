"""The settings file as one pydantic model (`ConfigFile`): the same keys as `AppConfig`, every key saying what it
allows, and the app's config built and checked through it."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest

from kds_app.startup.config import AppConfig, ConfigError, ConfigFile, load_config


def test_the_model_has_every_setting_and_says_what_each_allows() -> None:
    assert list(ConfigFile.model_fields) == [f.name for f in fields(AppConfig)]
    for name, info in ConfigFile.model_fields.items():
        assert isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("allowed"), name
    schema = ConfigFile.model_json_schema()
    assert schema["additionalProperties"] is False  # a typo in a key is refused, not ignored
    assert schema["properties"]["font_size"]["minimum"] == 12 and schema["properties"]["font_size"]["maximum"] == 40


def test_the_defaults_are_a_valid_file() -> None:
    assert AppConfig.from_json({}) == AppConfig()
    assert AppConfig.from_json(AppConfig().to_json()) == AppConfig()


def test_lists_given_in_code_are_kept_as_tuples() -> None:
    config = AppConfig(stations=["grill"], thresholds={"grill": [60, 120]}, default_thresholds=[30, 90])  # type: ignore[arg-type]
    assert config.stations == ("grill",) and config.thresholds == {"grill": (60, 120)}
    assert config.default_thresholds == (30, 90)
    assert hash(config.stations)


def test_a_changed_copy_is_checked_too() -> None:
    """`dataclasses.replace` (the settings dialog's way) goes through the same model."""
    with pytest.raises(ConfigError, match=r"^embedded_port must be 0-65535, not -1$") as caught:
        replace(AppConfig(), embedded_port=-1)
    assert caught.value.field == "embedded_port"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"layout": "grid"}, "layout", "layout must be one of paged, scroll, not 'grid'"),
        ({"allow_rush": 1}, "allow_rush", "allow_rush must be true or false, not 1"),
        ({"ready_board_names": "no"}, "ready_board_names", "ready_board_names must be true or false, not 'no'"),
        ({"keymap": ["bump"]}, "keymap", "keymap must be an object of action: key name, not ['bump']"),
        ({"keymap": {"bump": "NoSuchKey"}}, "keymap", "keymap: bump: unknown key 'NoSuchKey'"),
        ({"url": " "}, "url", "url must be text or null, not ' '"),
        ({"stations": [5]}, "stations", "stations: 5 is not a station name"),
        ({"retention_days": 1.5}, "retention_days", "retention_days must be 1-365, not 1.5"),
    ],
)
def test_the_file_and_the_key_are_named(tmp_path: Path, data: dict[str, object], field: str, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.field == field and caught.value.path == path
