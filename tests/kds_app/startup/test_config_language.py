"""The screen's `language` setting: English by default, any shipped translation, and a clear refusal otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kds_app.startup.config import AppConfig, ConfigError, load_config, save_config


def test_english_by_default_and_amharic_saved_and_loaded(tmp_path: Path) -> None:
    assert AppConfig().language == "en"
    path = tmp_path / "config.json"
    save_config(path, AppConfig(language="am"))
    assert json.loads(path.read_text(encoding="utf-8"))["language"] == "am"
    assert load_config(path).language == "am"


def test_a_language_without_a_translation_is_refused_naming_what_is_shipped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^language must be one of en, am, not 'fr'$") as caught:
        AppConfig(language="fr")
    assert caught.value.field == "language"
    path = tmp_path / "config.json"
    path.write_text('{"language": "xx"}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.json: language must be one of en, am, not 'xx'"):
        load_config(path)
