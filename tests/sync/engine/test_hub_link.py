"""A screen learns its hub's upstream link from the server's `/health` (through httpx's transport seam)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from api_client.client import KdsApiClient
from sync.engine.hub_link import HubLinkWatch

DOWN = {"status": "ok", "upstream": {"connection": "offline", "caught_up": False, "taps_waiting": 3,
                                     "pos_writes_waiting": 1, "down_since": "2026-12-07T20:14:00+00:00",
                                     "url": "https://abc.supabase.co", "last_error": None}}
UP = {"status": "ok", "upstream": {**DOWN["upstream"], "connection": "live", "down_since": None, "taps_waiting": 0}}


def server(answer: Callable[[httpx.Request], httpx.Response], asked: list[str]) -> KdsApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answer(request)

    return KdsApiClient("http://hub.local:8000", "anon", transport=httpx.MockTransport(handler))


async def test_a_hub_whose_internet_is_down_is_shown_down_with_what_waits_then_up_again() -> None:
    answers = [DOWN, UP]
    asked: list[str] = []
    async with server(lambda _r: httpx.Response(200, json=answers.pop(0)), asked) as api:
        watch = HubLinkWatch(api, interval_s=60)
        task = asyncio.create_task(watch.run())
        watch.want()  # live again
        down = await asyncio.wait_for(watch.link.wait_for(lambda link: link is not None), 5)
        assert down is not None and not down.up and down.taps_waiting == 3 and down.down_since is not None
        watch.want()  # the hub's broadcast: upstream is back
        up = await asyncio.wait_for(watch.link.wait_for(lambda link: link is not None and link.up), 5)
        assert up is not None and up.down_since is None
        task.cancel()
    assert asked == ["/health", "/health"]


async def test_a_plain_companion_is_no_hub_and_supabase_is_never_asked_again() -> None:
    asked: list[str] = []
    async with server(lambda _r: httpx.Response(200, json={"status": "ok"}), asked) as api:
        assert await HubLinkWatch(api, 60).fetch() is None
    asked.clear()
    async with server(lambda _r: httpx.Response(404, json={"message": "no Route matched"}), asked) as api:
        watch = HubLinkWatch(api, interval_s=0.01)
        watch.want()
        await asyncio.wait_for(watch.run(), 5)  # returns: nothing to watch on this server
        assert watch.link.value is None and not watch.supported
    assert asked == ["/health"]


async def test_while_the_hub_is_offline_its_figures_are_asked_again_at_the_interval() -> None:
    answers = [DOWN, {**DOWN, "upstream": {**DOWN["upstream"], "taps_waiting": 5}}, UP]
    asked: list[str] = []
    async with server(lambda _r: httpx.Response(200, json=answers.pop(0)), asked) as api:
        watch = HubLinkWatch(api, interval_s=0.05)  # no broadcast comes while the hub stays down
        task = asyncio.create_task(watch.run())
        watch.want()
        five = await asyncio.wait_for(watch.link.wait_for(lambda link: link is not None and link.taps_waiting == 5), 5)
        assert five is not None and not five.up
        await asyncio.wait_for(watch.link.wait_for(lambda link: link is not None and link.up), 5)
        task.cancel()
    assert asked == ["/health"] * 3
