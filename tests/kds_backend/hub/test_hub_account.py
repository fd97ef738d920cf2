"""The hub's own account on upstream: email and password, a session kept for starting offline, and the wrong
account refused at start in words."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from api_client.models import DeviceRole, Priority
from kds_backend.hub.settings import STORE_FILE
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.device_accounts import PASSWORD, add_device
from tests.kds_backend.realtime.support import create_order
from tests.live_server import LiveServer

from .tiers import HUB_SECRET, START_S, TIMEOUT_S, hub_env, order_on, screen, start_server, three_tiers, until, whole

pytestmark = pytest.mark.slow


async def device_account(upstream: LiveServer, role: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=upstream.url) as http:
        device = await add_device(http, auth_headers(token_for("admin")), role=role, name="Kitchen hub", stations=[])
    return {"KDS_UPSTREAM_EMAIL": device["email"], "KDS_UPSTREAM_PASSWORD": PASSWORD}


async def test_a_hub_signed_in_with_its_password_starts_again_while_the_internet_is_down(tmp_path: Path) -> None:
    async with (
        three_tiers(tmp_path, account=lambda up: device_account(up, "admin")) as tiers,
        screen(tiers.hub.url, tmp_path, "r1-expo-1", DeviceRole.expo) as expo,
        screen(tiers.upstream.url, tmp_path, "r1-kds-online-1", hub=False) as online,
    ):
        session = tiers.hub.data_dir / f"{STORE_FILE}.session.json"
        assert session.stat().st_mode & 0o777 == 0o600  # it holds a refresh token
        async with httpx.AsyncClient(base_url=tiers.upstream.url) as http:
            order = UUID((await create_order(http, "r1", "P1"))["id"])
        await until(expo, lambda: whole(expo, order))

        tiers.link.blackhole()
        await tiers.restart_hub(kill=True)  # a power cut, and the internet still down when the hub is back
        expo.submit("rush", order)
        await asyncio.wait_for(expo.queue_depth.wait_for(0), TIMEOUT_S)  # the offline hub took it

        tiers.link.restore()
        await until(online, lambda: (o := order_on(online, order)) is not None and o.priority is Priority.rush)


async def test_a_hub_whose_upstream_account_is_a_screen_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    upstream = start_server(tmp_path / "upstream", JWT_SECRET)
    try:
        await asyncio.to_thread(upstream.wait_ready, START_S)
        env = hub_env(upstream.url)
        del env["KDS_UPSTREAM_TOKEN"]
        env.update(await device_account(upstream, "kds"))
        hub = start_server(tmp_path / "hub", HUB_SECRET, env)
        try:
            with pytest.raises(RuntimeError, match="exited"):
                await asyncio.to_thread(hub.wait_ready, START_S)
            said = hub.log_path.read_text()
            # One line an installer can act on, not the last line of a start-up traceback.
            assert "kds-backend: error: the hub's upstream account has the kds role; it must be an admin device" in said
            assert "Traceback" not in said
        finally:
            hub.stop()
    finally:
        upstream.stop()
