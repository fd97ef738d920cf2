"""The `split` setting (issue 19, item 5): null, "expo", "status" or a list of other stations; a file asking for
a second pane that would show nothing new is refused naming the key and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kds_app.startup.config import AppConfig, ConfigError, load_config


@pytest.mark.parametrize(
    ("settings", "split"),
    [({}, None), ({"split": "expo"}, "expo"), ({"split": "status", "view": "expo"}, "status"),
     ({"stations": ["grill"], "split": ["fry", "cold"]}, ("fry", "cold"))],
)
def test_a_split_loads(tmp_path: Path, settings: dict[str, Any], split: object) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(settings), encoding="utf-8")
    assert load_config(path).split == split


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"split": "left"}, 'split must be null, "expo", "status" or a list of other stations, not \'left\''),
        ({"split": []}, 'split must be null, "expo", "status" or a list of other stations, not []'),
        ({"stations": ["grill"], "split": ["Fry!"]}, "split: 'Fry!' is not a station name"),
        ({"stations": ["grill"], "split": ["fry", "fry"]}, "split lists a station twice: fry, fry"),
        ({"split": ["fry"]}, "split with stations needs stations for the first pane (empty is every station)"),
        ({"stations": ["grill", "fry"], "split": ["fry"]}, "split: fry is in stations too"),
        ({"view": "expo", "split": "expo"}, 'split "expo" needs view "station": this screen is expo already'),
        ({"view": "expo", "split": ["fry"]}, 'split with stations needs view "station"'),
    ],
)
def test_a_split_that_cannot_work_is_refused_naming_the_key(
    tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.field == "split"
    assert str(refused.value).startswith(f"{path}: {message}")


def test_a_split_round_trips_through_the_file() -> None:
    config = AppConfig(stations=("grill",), split=("fry",))
    assert config.to_json()["split"] == ["fry"]
    assert AppConfig.from_json(config.to_json()) == config
