"""The one listener registry: every callback gets every value, a raising one is logged and skipped."""

from __future__ import annotations

import logging

import pytest

from api_client.listeners import Listeners


def test_each_callback_gets_each_value_in_the_order_added() -> None:
    got: list[tuple[str, int]] = []
    listeners: Listeners[int] = Listeners()
    listeners.add(lambda v: got.append(("a", v)))
    remove_b = listeners.add(lambda v: got.append(("b", v)))
    listeners.notify(1)
    remove_b()
    remove_b()  # twice is harmless
    listeners.notify(2)
    assert got == [("a", 1), ("b", 1), ("a", 2)] and len(listeners) == 1


def test_a_broken_callback_is_logged_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    got: list[int] = []
    listeners: Listeners[int] = Listeners("outbox listener")

    def broken(_value: int) -> None:
        raise RuntimeError("boom")

    listeners.add(broken)
    listeners.add(got.append)
    with caplog.at_level(logging.ERROR, logger="api_client.listeners"):
        listeners.notify(7)
    assert got == [7]
    [record] = caplog.records
    assert record.getMessage().startswith("outbox listener <function") and "boom" in (record.exc_text or "")


def test_a_callback_that_removes_itself_or_adds_another_does_not_upset_this_round() -> None:
    got: list[str] = []
    listeners: Listeners[str] = Listeners()

    def once(value: str) -> None:
        got.append(f"once {value}")
        remove()
        listeners.add(lambda v: got.append(f"late {v}"))

    remove = listeners.add(once)
    listeners.add(lambda v: got.append(f"always {v}"))
    listeners.notify("x")
    listeners.notify("y")
    assert got == ["once x", "always x", "always y", "late y"]
