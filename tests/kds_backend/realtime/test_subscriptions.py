"""The subscription index: a change finds exactly the bindings that match it, testing only those it may match."""

from __future__ import annotations

import random
from uuid import uuid4

import pytest

from kds_backend.realtime.bindings import Binding, parse_binding
from kds_backend.realtime.payloads import PreparedChange
from kds_backend.realtime.subscriptions import SubscriptionIndex

COLUMNS = ("status", "guests", "notes", "number")
LITERALS = ("new", "done", "1", "0", "4", "4.0", "true", "false", "t", "nan", "NaN", "1e400", "A1", "")
VALUES = ("new", "done", 1, 0, 4, 4.0, True, False, None, "A1", "", float("nan"), 2**1100, "1", "true")


def change(restaurant: str, table: str, row: dict, type_: str = "INSERT") -> PreparedChange:
    return PreparedChange(table, type_, restaurant, {"restaurant_id": restaurant, **row}, "{}")


def brute_force(subscribed: dict, c: PreparedChange) -> dict:
    """What testing every binding of every channel gives: the reference the index must equal."""
    out = {}
    for owner, (restaurant, bindings) in subscribed.items():
        if restaurant != c.restaurant_id:
            continue
        ids = tuple(dict.fromkeys(b.id for b in bindings if b.matches(c)))
        if ids:
            out[owner] = ids
    return out


def random_filter(rng: random.Random) -> str | None:
    parts = []
    for _ in range(rng.randint(0, 3)):
        column = rng.choice(COLUMNS)
        op = rng.choice(("eq", "eq", "in", "neq", "gt", "is", "not.eq", "not.in"))
        if op.endswith("in"):
            value = "(" + ",".join(rng.sample(LITERALS, rng.randint(1, 4))) + ")"
        elif op == "is":
            value = rng.choice(("null", "true", "false"))
        else:
            value = rng.choice(LITERALS)
        parts.append(f"{column}={op}.{value}")
    if rng.random() < 0.3:
        parts.append(f"restaurant_id=eq.{rng.choice(('r1', 'r2'))}")
    rng.shuffle(parts)
    return ",".join(parts) or None


def test_the_index_finds_what_testing_every_binding_finds() -> None:
    rng = random.Random(17)
    index = SubscriptionIndex()
    subscribed: dict = {}
    for n in range(300):
        bindings = []
        for _ in range(rng.randint(1, 3)):
            params = {"event": rng.choice(("*", "INSERT", "UPDATE")), "schema": "public"}
            params["table"] = rng.choice(("orders", "order_items", "*"))
            text = random_filter(rng)
            if text is not None:
                params["filter"] = text
            try:
                bindings.append(parse_binding(params))
            except ValueError:
                continue  # a column the table lacks, with table `*` for instance
        owner = (n, f"realtime:t{n % 7}")
        restaurant = rng.choice(("r1", "r2"))
        index.add(owner, restaurant, tuple(bindings))
        if bindings:
            subscribed[owner] = (restaurant, tuple(bindings))
        if rng.random() < 0.2:  # some leave again
            index.remove(owner)
            subscribed.pop(owner, None)
    for _ in range(2000):
        row = {column: rng.choice(VALUES) for column in COLUMNS if rng.random() < 0.9}
        c = change(
            rng.choice(("r1", "r2", "r3")), rng.choice(("orders", "order_items")), row, rng.choice(("INSERT", "UPDATE"))
        )
        expected = brute_force(subscribed, c)
        assert dict(index.matches(c)) == expected, row
        # Realtime prepares only the changes `watches` admits: it must admit every change some channel matches.
        assert index.watches(c.restaurant_id, c.table) or not expected, row
    for owner in list(subscribed):
        index.remove(owner)
    assert len(index) == 0 and not index._tables and not index._groups  # nothing left behind
    assert not index.watches("r1", "orders") and not index.watches("r2", "order_items")


def test_a_change_tests_only_the_bindings_it_may_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 screens of one restaurant each following one order, and 1,000 of another restaurant with heavy
    filters: a change of the first restaurant's order tests one binding, not 2,000."""
    index = SubscriptionIndex()
    order_ids = [str(uuid4()) for _ in range(1000)]
    for n, order_id in enumerate(order_ids):
        index.add(
            (n, "realtime:order"),
            "r1",
            (parse_binding({"event": "*", "table": "orders", "filter": f"id=eq.{order_id}"}),),
        )
    heavy = "status=not.in.(" + ",".join(f"s{v}" for v in range(100)) + ")"
    for n in range(1000, 2000):
        index.add((n, "realtime:heavy"), "r2", (parse_binding({"event": "*", "table": "orders", "filter": heavy}),))
    tested: list[Binding] = []
    original = Binding.matches

    def counting(self: Binding, c: PreparedChange) -> bool:
        tested.append(self)
        return original(self, c)

    monkeypatch.setattr(Binding, "matches", counting)
    found = index.matches(change("r1", "orders", {"id": order_ids[500], "status": "new"}))
    assert [owner for owner, _ids in found] == [(500, "realtime:order")]
    assert len(tested) == 1


def test_equal_bindings_are_tested_once_for_all_their_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    index = SubscriptionIndex()
    binding = parse_binding({"event": "*", "table": "orders", "filter": "restaurant_id=eq.r1"})
    for n in range(500):
        index.add((n, "realtime:kitchen"), "r1", (binding,))
    calls = []
    original = Binding.matches
    monkeypatch.setattr(Binding, "matches", lambda self, c: calls.append(1) or original(self, c))
    assert len(index.matches(change("r1", "orders", {"id": "x"}))) == 500
    assert len(calls) == 1
