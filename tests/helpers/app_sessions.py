"""A whole app session brought up against a companion the way `kds` starts, and a POS order posted to it."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from api_client.models import DeviceRole
from kds_app.demo.demo_orders import service
from kds_app.windows.app import App
from tests.kds_app.conftest import TIMEOUT_S


async def session_up(app: App) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        await app.session_started.wait()
        assert app.session is not None
        await app.session.engine.caught_up.wait_for(True)


async def post_order(app: App, number: str) -> uuid.UUID:
    assert app.embedded is not None
    tokens = app.embedded.token_provider(DeviceRole.pos, "pos-test")
    headers = {
        "apikey": app.embedded.anon_key,
        "Authorization": f"Bearer {await tokens.get_token()}",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    order = service(1, first_number=int(number))[0]
    async with httpx.AsyncClient(base_url=app.embedded.url, headers=headers) as http:
        response = await http.post("/api/v1/orders", json=order.model_dump(mode="json"))
    response.raise_for_status()
    return uuid.UUID(response.json()["id"])
