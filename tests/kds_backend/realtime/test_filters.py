"""`postgres_changes` filters: parsing and matching rows in their JSON form."""

from __future__ import annotations

import pytest

from kds_backend.realtime.filters import FilterError, TermBudget, TooManyTerms, _compare, parse_filter

ROW = {"id": "0b7e", "restaurant_id": "r1", "status": "new", "guests": 4, "held": False, "notes": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, True),
        ("", True),
        ("restaurant_id=eq.r1", True),
        ("restaurant_id=eq.r2", False),
        ("restaurant_id=neq.r2", True),
        ("status=in.(new,in_progress)", True),
        ("status=in.(ready,served)", False),
        ('status=in.("new","a,b")', True),
        ("status=not.in.(ready)", True),
        ("guests=gt.3", True),
        ("guests=gte.5", False),
        ("guests=lt.10", True),
        ("guests=eq.4", True),
        ("held=eq.false", True),
        ("held=is.false", True),
        ("notes=is.null", True),
        ("notes=eq.x", False),
        ("notes=neq.x", False),
        ("notes=not.eq.x", False),
        ("notes=not.is.null", False),
        ("restaurant_id=eq.r1,status=eq.new", True),
        ("restaurant_id=eq.r1,status=eq.ready", False),
    ],
)
def test_matching(text: str | None, expected: bool) -> None:
    assert parse_filter(text, ROW.keys()).matches(ROW) is expected


@pytest.mark.parametrize(
    "text",
    [
        "restaurant_id",
        "restaurant_id=like.r%",
        "restaurant_id=eq",
        "nope=eq.1",
        "status=in.new",
        "status=in.(a",
        'status=eq."a',
        "status=is.maybe",
        "status=in.(" + ",".join(str(i) for i in range(101)) + ")",
    ],
)
def test_bad_filters_are_refused(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text, ROW.keys())


def big_in_filter(values: int) -> str:
    return "status=in.(" + ",".join(f'"v{n},{n}"' for n in range(values)) + ")"


def test_a_budget_counts_conditions_and_in_values_and_stops_there() -> None:
    text = "status=eq.new,guests=gt.1," + big_in_filter(3)
    budget = TermBudget(6)
    assert parse_filter(text, budget=budget).terms == 5  # quoted commas are not terms
    assert budget.left == 1
    with pytest.raises(TooManyTerms, match="more than 6 filter terms"):
        parse_filter(text, budget=budget)  # one budget, shared by a join's bindings
    assert parse_filter(None, budget=TermBudget(0)).terms == 0


def test_a_malformed_filter_still_spends_what_it_made_the_server_scan() -> None:
    budget = TermBudget(250)
    with pytest.raises(FilterError):
        parse_filter(big_in_filter(100)[:-1], budget=budget)  # no closing parenthesis
    assert budget.left == 150
    with pytest.raises(TooManyTerms):
        parse_filter(big_in_filter(200)[:-1], budget=budget)


def test_quotes_escapes_and_parentheses_parse_as_they_always_did() -> None:
    """The regex tokenizer answers as the per-character scan it replaced did (a fuzz of both agreed)."""
    text = 'notes=in.("a\\"b","c,d",plain,"x\\\\"),status=eq."q(1)"'
    parsed = parse_filter(text)
    assert parsed.conditions[0].value == ('a"b', "c,d", "plain", "x\\")
    assert parsed.conditions[1].value == "q(1)"
    for bad in ('notes=eq."open', "notes=in.((a)", "notes=eq.a)", 'notes=eq."a\\"'):
        with pytest.raises(FilterError):
            parse_filter(bad)


@pytest.mark.parametrize("negate", ["", "not."])
def test_an_in_list_answers_as_comparing_each_value_would(negate: str) -> None:
    """`in` on a text column is a set lookup; on numbers and booleans it still compares by type."""
    parsed = parse_filter(f'status={negate}in.(new,"4",true,"a,b")')
    (condition,) = parsed.conditions
    for actual in ("new", "4", "a,b", "true", "News", "", 4, 4.0, True, False, 5, None):
        expected = actual is not None and (any(_compare(actual, v) == 0 for v in condition.value) != (negate == "not."))
        assert condition.matches({"status": actual}) is expected, actual
