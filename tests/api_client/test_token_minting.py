"""Tokens minted from the secret: what the companion accepts, fresh before expiry and after a refused one."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from api_client.client import KdsApiClient
from api_client.errors import AuthError
from api_client.models import DeviceRole, OrderIntake, OrderItemIntake
from api_client.token_minting import MintingTokenProvider, issue_anon_key
from kds_backend.auth.tokens import verify_token
from tests.conftest import JWT_SECRET


async def test_tokens_are_fresh_before_expiry_and_after_refresh() -> None:
    clock = [time.time()]
    provider = MintingTokenProvider(
        JWT_SECRET, restaurant_id="local", role=DeviceRole.expo, device_id="screen-2", ttl_s=300, clock=lambda: clock[0]
    )
    first = await provider.get_token()
    assert first is not None and await provider.get_token() == first
    clock[0] += 250  # within the 60 s margin before expiry
    second = await provider.get_token()
    assert second != first
    claims = verify_token(JWT_SECRET, second or "", leeway_s=600)
    assert claims.sub == "screen-2" and claims.exp == int(clock[0]) + 300
    assert claims.app_metadata.restaurant_id == "local" and claims.app_metadata.device_role is DeviceRole.expo
    clock[0] += 1
    third = await provider.refresh(second)
    assert third not in (first, second)
    assert await provider.refresh(second) == third  # a stale 401 does not mint yet another


async def test_the_companion_takes_a_minted_pos_token_and_anon_key(app: FastAPI) -> None:
    tokens = MintingTokenProvider(JWT_SECRET, restaurant_id="r1", role=DeviceRole.pos, device_id="pos-1")
    transport = httpx.ASGITransport(app=app)
    async with KdsApiClient("http://companion", issue_anon_key(JWT_SECRET), tokens, transport=transport) as api:
        order = await api.create_order(
            OrderIntake(number="M1", items=[OrderItemIntake(name="Soup", station="grill")]), "key-m1"
        )
    assert order.restaurant_id == "r1" and order.number == "M1"
    forged = MintingTokenProvider("x" * 40, restaurant_id="r1", role=DeviceRole.pos, device_id="pos-1")
    async with KdsApiClient("http://companion", issue_anon_key("x" * 40), forged, transport=transport) as api:
        with pytest.raises(AuthError) as refused:
            await api.create_order(
                OrderIntake(number="M2", items=[OrderItemIntake(name="Soup", station="grill")]), "key-m2"
            )
    assert refused.value.status == 401
