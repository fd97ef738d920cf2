"""The bump bar's key map, without Qt events: action names, the defaults, key names → Qt key codes, and the
validation that turns a bad `keymap` setting into a clear error. (`kds_app.input.bump_bar` applies it to a window.)

The defaults work with an ordinary keyboard and with the cheapest "bump bar" there is, a USB numeric keypad:
digits select the nth visible ticket, Enter bumps, . acknowledges the selected ticket's changes (items added
or voided after it was sent), + and - page, * recalls the last bumped ticket, / shows the all-day counts,
0 moves the selected ticket to another station (the numbers then choose the station); arrows move the
selection; Tab (or P) switches a split screen's pane. Programmable bump bars are set to send these codes, or the map
is changed in the settings file.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache

from PySide6.QtCore import Qt

__all__ = ["DEFAULT_KEYMAP", "SELECT", "Action", "KeymapError", "action_for", "key_code", "resolve_keymap"]


class Action(StrEnum):
    SELECT_1 = "select_1"
    SELECT_2 = "select_2"
    SELECT_3 = "select_3"
    SELECT_4 = "select_4"
    SELECT_5 = "select_5"
    SELECT_6 = "select_6"
    SELECT_7 = "select_7"
    SELECT_8 = "select_8"
    SELECT_9 = "select_9"
    PREVIOUS = "previous"
    NEXT = "next"
    UP = "up"
    DOWN = "down"
    BUMP = "bump"
    ACKNOWLEDGE = "acknowledge"
    RECALL = "recall"
    PAGE_UP = "page_up"
    PAGE_DOWN = "page_down"
    ALL_DAY = "all_day"
    MOVE = "move"
    PANE = "pane"


SELECT = {getattr(Action, f"SELECT_{n}"): n for n in range(1, 10)}

DEFAULT_KEYMAP: dict[Action, tuple[str, ...]] = {
    **{action: (str(n),) for action, n in SELECT.items()},
    Action.PREVIOUS: ("Left",),
    Action.NEXT: ("Right",),
    Action.UP: ("Up",),
    Action.DOWN: ("Down",),
    Action.BUMP: ("Return", "Enter"),  # Return on a keyboard, Enter on a keypad
    Action.ACKNOWLEDGE: ("Period", "K"),  # the keypad's "." beside 0; K for "OK" on a keyboard
    Action.RECALL: ("Asterisk", "R"),
    Action.PAGE_UP: ("Minus", "PageUp"),
    Action.PAGE_DOWN: ("Plus", "PageDown"),
    Action.ALL_DAY: ("Slash", "A"),
    Action.MOVE: ("0", "M"),  # the keypad's 0, free of the numbers that select; M for "move" on a keyboard
    Action.PANE: ("Tab", "P"),  # a split screen: the keys act on the other pane (a keypad's Tab is beside NumLock)
}

# What people type for keys whose Qt names are longer.
_ALIASES = {"pgdown": "pagedown", "pgdn": "pagedown", "pgup": "pageup", "esc": "escape", "del": "delete",
            "ins": "insert", "*": "asterisk", "/": "slash", "+": "plus", "-": "minus", ".": "period",
            " ": "space", "bksp": "backspace"}


class KeymapError(ValueError):
    """A key map that cannot be used; the message names the action or key."""


@cache
def _qt_keys() -> dict[str, int]:
    """Lower-case Qt key names without the `Key_` prefix ("pagedown", "f1", "1") → key code."""
    return {name[4:].casefold(): int(member.value) for name, member in Qt.Key.__members__.items()
            if name.startswith("Key_")}


def key_code(name: str) -> int:
    """The Qt key code for a key name such as "Return", "Space", "F1", "PageDown", "1" or "A"."""
    if not isinstance(name, str) or not name:
        raise KeymapError(f"a key must be a key name such as Return, Space, F1 or 1, not {name!r}")
    folded = name.strip().casefold() or name  # " " (space) strips to nothing
    folded = _ALIASES.get(folded, folded)
    code = _qt_keys().get(folded)
    if code is None:
        raise KeymapError(f"unknown key {name!r} (use a Qt key name such as Return, Space, F1, PageDown or 1)")
    return code


def resolve_keymap(overrides: Mapping[str, object] | None = None) -> dict[int, Action]:
    """Key code → action: the defaults, with each action named in `overrides` rebound to the given key name
    (or list of key names; an empty list unbinds it). `KeymapError` for an unknown action or key, or a key
    bound to two actions."""
    bindings: dict[Action, tuple[str, ...]] = dict(DEFAULT_KEYMAP)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise KeymapError(f"keymap must be an object of action: key name, not {overrides!r}")
    for action_name, keys in (overrides or {}).items():
        try:
            action = Action(action_name)
        except ValueError:
            known = ", ".join(a.value for a in Action)
            raise KeymapError(f"unknown action {action_name!r} (known: {known})") from None
        if isinstance(keys, str):
            names: tuple[str, ...] = (keys,)
        elif isinstance(keys, list | tuple) and all(isinstance(k, str) for k in keys):
            names = tuple(keys)
        else:
            raise KeymapError(f"{action.value}: expected a key name or a list of key names, not {keys!r}")
        bindings[action] = names
    resolved: dict[int, Action] = {}
    for action, names in bindings.items():
        for name in names:
            try:
                code = key_code(name)
            except KeymapError as exc:
                raise KeymapError(f"{action.value}: {exc}") from None
            other = resolved.get(code)
            if other is not None and other is not action:
                raise KeymapError(
                    f"key {name!r} is bound to both {other.value} and {action.value}: give one of them another key"
                )
            resolved[code] = action
    return resolved


def action_for(keymap: Mapping[int, Action], key: int, modifiers: Qt.KeyboardModifier) -> Action | None:
    """The action a key press means, if any. With Ctrl, Alt or Meta held it is a shortcut for something
    else, never a bump; the keypad flag is ignored (a keypad's 1 is a 1)."""
    if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                    | Qt.KeyboardModifier.MetaModifier):
        return None
    return keymap.get(key)
