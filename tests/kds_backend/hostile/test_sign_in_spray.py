"""Sign-in under a password spray (issue 17, item 6): throttled per address whatever the email, and the hashing
runs on a bounded pool of its own, so a spray is refused (429) rather than queued and the rest of the server
keeps its threads."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kds_backend.app import create_app
from kds_backend.auth import hashing
from kds_backend.auth.hashing import HashingBusy, HashPool
from kds_backend.routes.auth import SIGN_IN_IP_BURST
from kds_backend.settings import Settings
from tests.conftest import auth_headers, token_for
from tests.kds_backend.device_accounts import FakeClock, add_device, sign_in, use_cheap_scrypt


@pytest.fixture
async def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The app with the auth clock frozen (no bucket refills unless the test moves it) and cheap scrypt."""
    use_cheap_scrypt(monkeypatch)
    application = create_app(settings)
    application.state.auth_clock = FakeClock()
    async with application.router.lifespan_context(application):
        yield application


async def test_spraying_one_password_across_emails_is_throttled_per_address(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    device = await add_device(client, auth_headers(token_for("admin")))
    for n in range(SIGN_IN_IP_BURST):
        assert (await sign_in(client, f"guess{n}@kitchen.test", "Summer2026!")).status_code == 400
    r = await sign_in(client, f"guess{SIGN_IN_IP_BURST}@kitchen.test", "Summer2026!")
    assert r.status_code == 429, r.text
    assert r.json()["error_code"] == "over_request_rate_limit" and int(r.headers["Retry-After"]) >= 1
    # The address's budget is spent for every account, the real one too, until it refills.
    assert (await sign_in(client, device["email"])).status_code == 429
    app.state.auth_clock.advance(int(r.headers["Retry-After"]) + 0.001)
    assert (await sign_in(client, device["email"])).status_code == 200


async def test_a_full_hash_pool_refuses_at_once_and_frees_as_hashes_finish() -> None:
    pool = HashPool(workers=1, queue=1)
    release = threading.Event()
    started = threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(30)
        return "done"

    running = asyncio.ensure_future(pool.run(slow))
    waiting = asyncio.ensure_future(pool.run(lambda: "queued"))
    assert await asyncio.to_thread(started.wait, 30)
    assert pool.in_flight == 2
    with pytest.raises(HashingBusy):
        await pool.run(lambda: "one too many")
    release.set()
    assert await asyncio.wait_for(asyncio.gather(running, waiting), 30) == ["done", "queued"]
    assert pool.in_flight == 0
    assert await pool.run(lambda: "again") == "again"


async def test_sign_in_answers_429_while_the_hash_pool_is_full(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = await add_device(client, auth_headers(token_for("admin")))
    full = HashPool(workers=1, queue=0)
    monkeypatch.setattr("kds_backend.auth.sessions.HASHING", full)
    release = threading.Event()
    started = threading.Event()

    def busy() -> None:
        started.set()
        assert release.wait(30)

    hog = asyncio.ensure_future(full.run(busy))
    assert await asyncio.to_thread(started.wait, 30)
    r = await sign_in(client, device["email"])
    assert r.status_code == 429 and r.json()["error_code"] == "over_request_rate_limit"
    assert r.headers["Retry-After"] == "1"
    # Meanwhile the rest of the server answers: reads do not wait on the hashing threads.
    assert (await client.get("/rest/v1/orders", headers=auth_headers(token_for("kds")))).status_code == 200
    release.set()
    await asyncio.wait_for(hog, 30)
    assert (await sign_in(client, device["email"])).status_code == 200


def test_the_default_pool_leaves_the_machine_half_free() -> None:
    cores = os.cpu_count() or 2
    assert hashing.HASHING.workers == max(1, cores // 2) and hashing.HASHING.queue == 32
