"""`packaging/config.sample.json` is what installers copy: it must stay loadable as the app changes."""

from __future__ import annotations

import json
from pathlib import Path

from kds_app.startup.config import AppConfig, load_config

SAMPLE = Path(__file__).resolve().parents[2] / "packaging" / "config.sample.json"


def test_sample_config_loads() -> None:
    config = load_config(SAMPLE)
    assert config != AppConfig()  # it is the file that was read, not the defaults of a missing file
    assert config.server == "companion"
    assert config.url is not None and config.anon_key is not None and config.email is not None
    assert config.stations


def test_sample_config_round_trips() -> None:
    # Keys the app writes back on save are exactly the sample's: nothing stale that a later load would refuse.
    assert AppConfig.from_json(json.loads(SAMPLE.read_text(encoding="utf-8"))).to_json().keys() == json.loads(
        SAMPLE.read_text(encoding="utf-8")
    ).keys()
