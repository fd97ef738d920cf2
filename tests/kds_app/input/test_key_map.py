"""The bump bar's key map without Qt events: defaults, key names, overrides and the errors for bad maps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kds_app.input.key_map import DEFAULT_KEYMAP, SELECT, Action, KeymapError, action_for, key_code, resolve_keymap
from kds_app.startup.config import AppConfig, ConfigError, load_config

NONE = Qt.KeyboardModifier.NoModifier


def test_defaults_serve_a_keyboard_and_a_numeric_keypad() -> None:
    keymap = resolve_keymap()
    assert keymap[int(Qt.Key.Key_3)] is Action.SELECT_3
    assert keymap[int(Qt.Key.Key_Return)] is Action.BUMP and keymap[int(Qt.Key.Key_Enter)] is Action.BUMP
    assert keymap[int(Qt.Key.Key_Asterisk)] is Action.RECALL
    assert keymap[int(Qt.Key.Key_Plus)] is Action.PAGE_DOWN and keymap[int(Qt.Key.Key_PageUp)] is Action.PAGE_UP
    assert keymap[int(Qt.Key.Key_Slash)] is Action.ALL_DAY
    assert keymap[int(Qt.Key.Key_Period)] is Action.ACKNOWLEDGE  # the keypad's "." beside 0
    assert set(DEFAULT_KEYMAP) == set(Action)  # every action has a key out of the box


def test_key_names_are_qt_names_any_case_with_common_aliases() -> None:
    assert key_code("Space") == key_code("space") == int(Qt.Key.Key_Space)
    assert key_code("PgDn") == int(Qt.Key.Key_PageDown)
    assert key_code("F12") == int(Qt.Key.Key_F12)
    assert key_code("*") == int(Qt.Key.Key_Asterisk)
    with pytest.raises(KeymapError, match="unknown key 'Entr'"):
        key_code("Entr")


def test_an_override_rebinds_only_its_action() -> None:
    keymap = resolve_keymap({"bump": "Space", "recall": ["F2", "Backspace"], "all_day": []})
    assert keymap[int(Qt.Key.Key_Space)] is Action.BUMP
    assert int(Qt.Key.Key_Return) not in keymap  # the default bump keys went with the override
    assert keymap[int(Qt.Key.Key_F2)] is Action.RECALL and keymap[int(Qt.Key.Key_Backspace)] is Action.RECALL
    assert Action.ALL_DAY not in keymap.values()  # an empty list unbinds
    assert keymap[int(Qt.Key.Key_1)] is Action.SELECT_1  # the rest keep their defaults


@pytest.mark.parametrize(
    ("keymap", "message"),
    [
        ({"bumpp": "Space"}, "unknown action 'bumpp'"),
        ({"bump": "Spcae"}, "bump: unknown key 'Spcae'"),
        ({"bump": "R"}, "key 'R' is bound to both bump and recall"),  # R is recall's by default
        ({"bump": 3}, "bump: expected a key name or a list of key names"),
    ],
)
def test_a_bad_map_is_refused_with_its_reason(keymap: dict[str, object], message: str) -> None:
    with pytest.raises(KeymapError, match=message):
        resolve_keymap(keymap)
    with pytest.raises(ConfigError, match=message) as caught:
        AppConfig(keymap=keymap)
    assert caught.value.field == "keymap"


def test_a_bad_map_in_the_settings_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"keymap": {"bump": "Entr"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.json: keymap: bump: unknown key 'Entr'"):
        load_config(path)
    path.write_text(json.dumps({"keymap": {"bump": "Space"}}), encoding="utf-8")
    assert load_config(path).keymap == {"bump": "Space"}


def test_modifier_chords_are_not_bump_bar_keys() -> None:
    keymap = resolve_keymap()
    assert action_for(keymap, int(Qt.Key.Key_1), Qt.KeyboardModifier.KeypadModifier) is Action.SELECT_1
    assert action_for(keymap, int(Qt.Key.Key_R), Qt.KeyboardModifier.ControlModifier) is None
    assert action_for(keymap, int(Qt.Key.Key_Q), NONE) is None


def test_every_action_is_in_the_documented_key_table() -> None:
    """docs/keyboard-and-boards.md's table lists each action with its default keys (the split screen's `pane` was
    missing): a kitchen reads it to program a bump bar."""
    doc = (Path(__file__).parents[3] / "docs" / "keyboard-and-boards.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| `")}
    documented = {name.strip(" `") for row in rows for name in row.replace("…", "/").split("/")}
    selects = {a.value for a in SELECT}
    missing = [a.value for a in Action if a.value not in documented and a.value not in selects]
    assert missing == []
    pane_row = next(line for line in doc.splitlines() if line.startswith("| `pane`"))
    assert all(key in pane_row for key in DEFAULT_KEYMAP[Action.PANE])
