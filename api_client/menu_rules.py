"""The 86 rules, once: what an `eighty_six` intent says, how menu names match, and when the server refuses it.

The companion decides with these (`kds_backend/intents.py`), a screen shows its unanswered 86s with them
(`sync/engine/menu.py`), and a card tags open items by the same name key. The Supabase SQL twin
(`kds.apply_intent`) is kept in step by the shared intent scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAME_MAX = 200
REASON_MAX = 200


def menu_key(name: str) -> str:
    """Menu names match whatever their case and surrounding spaces: "Fries " and "fries" are one item."""
    return name.strip().lower()


@dataclass(frozen=True, slots=True)
class EightySix:
    """An `eighty_six` intent's arguments, checked: `available` False takes the item off, True brings it back."""

    item_name: str
    available: bool
    reason: str | None


def parse_eighty_six(args: dict[str, Any]) -> EightySix | str:
    """The intent's arguments, or why the server refuses them (in the words it answers with)."""
    name = args.get("item_name")
    available = args.get("available", False)
    reason = args.get("reason")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        return "eighty_six needs args.item_name (the menu item's name)"
    if not isinstance(available, bool):
        return "args.available must be true or false"
    if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_MAX):
        return "args.reason must be a short text"
    return EightySix(name.strip(), available, reason)


def eighty_six_refusal(wanted: EightySix, shown_name: str | None, available_now: bool | None) -> str | None:
    """Why the server refuses it given the menu row (None: no row), or None when it applies."""
    if available_now is None:
        return f"{wanted.item_name} is not 86'd" if wanted.available else None
    if available_now == wanted.available:
        name = shown_name or wanted.item_name
        return f"{name} is {'already available' if wanted.available else 'already 86d'}"
    return None
