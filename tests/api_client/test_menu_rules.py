"""The 86 rules the companion decides with and a screen shows its unanswered 86s by (api_client/menu_rules.py)."""

from __future__ import annotations

import pytest

from api_client.menu_rules import EightySix, eighty_six_refusal, menu_key, parse_eighty_six


def test_names_match_whatever_their_case_and_spaces() -> None:
    assert menu_key("  Fries ") == menu_key("fries") == "fries"
    assert menu_key("Fries") != menu_key("Fries large")


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        ({}, "eighty_six needs args.item_name (the menu item's name)"),
        ({"item_name": "   "}, "eighty_six needs args.item_name (the menu item's name)"),
        ({"item_name": "x" * 201}, "eighty_six needs args.item_name (the menu item's name)"),
        ({"item_name": "Fries", "available": "yes"}, "args.available must be true or false"),
        ({"item_name": "Fries", "reason": 5}, "args.reason must be a short text"),
        ({"item_name": "Fries", "reason": "r" * 201}, "args.reason must be a short text"),
    ],
)
def test_bad_arguments_are_refused_in_words(args: dict[str, object], refusal: str) -> None:
    assert parse_eighty_six(args) == refusal


def test_good_arguments_are_trimmed_and_default_to_taking_the_item_off() -> None:
    assert parse_eighty_six({"item_name": " Fries "}) == EightySix("Fries", False, None)
    assert parse_eighty_six({"item_name": "Fries", "available": True, "reason": "back"}) == EightySix(
        "Fries", True, "back"
    )


def test_the_server_refuses_what_would_change_nothing() -> None:
    off, back = EightySix("fries", False, None), EightySix("fries", True, None)
    assert eighty_six_refusal(off, None, None) is None  # no row yet: 86 it
    assert eighty_six_refusal(back, None, None) == "fries is not 86'd"
    assert eighty_six_refusal(off, "Fries", False) == "Fries is already 86d"  # the row's spelling
    assert eighty_six_refusal(back, "Fries", True) == "Fries is already available"
    assert eighty_six_refusal(off, "Fries", True) is None
    assert eighty_six_refusal(back, "Fries", False) is None
