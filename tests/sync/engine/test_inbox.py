"""The sync driver's inbox: inputs in order, a wait ended by the first input or its deadline, the loop kept going."""

from __future__ import annotations

import asyncio

from sync.engine.inbox import Inbox

WAIT_S = 10.0


async def test_an_input_ends_the_wait_at_once_and_inputs_keep_their_order() -> None:
    inbox: Inbox[str] = Inbox()
    waiting = asyncio.ensure_future(inbox.get(WAIT_S))
    await asyncio.sleep(0)
    inbox.put_nowait("frame 1")
    inbox.put_nowait("frame 2")
    assert await asyncio.wait_for(waiting, WAIT_S) == "frame 1", "woken by the input, not by the deadline"
    assert inbox.get_nowait() == "frame 2" and inbox.empty()


async def test_a_wait_with_nothing_coming_ends_at_its_deadline_with_none() -> None:
    inbox: Inbox[str] = Inbox()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await inbox.get(0.01) is None
    assert loop.time() - started >= 0.009
    inbox.put_nowait("late")  # no waiter left behind to wake
    assert await inbox.get(None) == "late"


async def test_a_driver_that_is_behind_still_lets_the_loop_run() -> None:
    """Inputs already queued, or a deadline already past: the socket reader (another task) still gets its turn."""
    inbox: Inbox[int] = Inbox()
    ran: list[str] = []

    async def reader() -> None:
        ran.append("reader")

    for wait_s in (0.0, WAIT_S):
        ran.clear()
        inbox.put_nowait(1)
        task = asyncio.ensure_future(reader())
        assert await inbox.get(wait_s) == 1
        assert ran == ["reader"]
        await task
    task = asyncio.ensure_future(reader())
    ran.clear()
    assert await inbox.get(0.0) is None
    assert ran == ["reader"]
    await task
