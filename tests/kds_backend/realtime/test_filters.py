"""`postgres_changes` filters: parsing and matching rows in their JSON form."""

from __future__ import annotations

import pytest

from kds_backend.realtime.filters import FilterError, parse_filter

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
