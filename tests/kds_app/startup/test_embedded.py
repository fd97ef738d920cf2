"""The embedded companion really serves over loopback from its own thread, and stops cleanly."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api_client.models import DeviceRole
from kds_app.startup.embedded import EmbeddedCompanion, EmbeddedStartError
from tests.live_server import free_port


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedCompanion]:
    with EmbeddedCompanion(tmp_path / "data") as c:
        yield c


def order_body(number: str) -> dict[str, object]:
    return {"number": number, "items": [{"name": "Burger", "quantity": 2, "category": "grill"}]}


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_it_serves_health_reads_and_intake_over_real_http(embedded: EmbeddedCompanion) -> None:
    assert embedded.port > 0
    assert embedded.url == f"http://127.0.0.1:{embedded.port}"
    assert embedded.settings.database_url.endswith("/data/companion.db")
    headers = {"apikey": embedded.anon_key}
    async with httpx.AsyncClient(base_url=embedded.url, timeout=10) as http:
        health = await http.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"

        pos = await embedded.token_provider(DeviceRole.pos, "till-1").get_token()
        created = await http.post(
            "/api/v1/orders",
            json=order_body("E1"),
            headers={**headers, "Authorization": f"Bearer {pos}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        assert created.json()["restaurant_id"] == "local"

        kds = await embedded.token_provider("kds", "screen-1", ["grill"]).get_token()
        orders = await http.get(
            "/rest/v1/orders",
            params={"select": "*,order_items(*)"},
            headers={**headers, "Authorization": f"Bearer {kds}"},
        )
        assert orders.status_code == 200, orders.text
        assert [o["number"] for o in orders.json()] == ["E1"]
        assert orders.json()[0]["order_items"][0]["station"] == "grill"

        # A token for another restaurant sees nothing of this one.
        other = await embedded.token_provider("kds", "screen-9", restaurant_id="elsewhere").get_token()
        assert (await http.get("/rest/v1/orders", headers={**headers, "Authorization": f"Bearer {other}"})).json() == []


def test_stop_closes_the_port_and_is_idempotent(tmp_path: Path) -> None:
    embedded = EmbeddedCompanion(tmp_path)
    embedded.stop()  # before start: harmless
    embedded.start()
    port = embedded.port
    assert port_open(port) and embedded.running
    embedded.stop()
    assert not port_open(port)
    assert not embedded.running
    embedded.stop()
    with pytest.raises(RuntimeError, match="already started"):
        embedded.start()


def test_the_same_directory_keeps_its_secret_and_data(tmp_path: Path) -> None:
    with EmbeddedCompanion(tmp_path) as first:
        secret, anon = first.settings.jwt_secret, first.anon_key
        token = asyncio.run(first.token_provider("kds", "screen-1").get_token())
        headers = {"apikey": anon, "Authorization": f"Bearer {token}"}
        assert httpx.get(f"{first.url}/rest/v1/orders", headers=headers, timeout=10).status_code == 200
    with EmbeddedCompanion(tmp_path) as second:
        assert second.settings.jwt_secret == secret
        # The first run's anon key and token are still good: same secret.
        r = httpx.get(f"{second.url}/rest/v1/orders", headers=headers, timeout=10)
        assert r.status_code == 200, r.text
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert EmbeddedCompanion(tmp_path / "other").settings.jwt_secret != secret


def test_a_port_in_use_raises_the_real_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        embedded = EmbeddedCompanion(tmp_path, port=port)
        with pytest.raises(OSError, match="in use"):
            embedded.start()
        embedded.stop()


def test_a_startup_failure_surfaces_its_cause(tmp_path: Path) -> None:
    embedded = EmbeddedCompanion(tmp_path)
    (tmp_path / "companion.db").mkdir()  # SQLite cannot open a directory: migrations fail in the lifespan
    with pytest.raises(EmbeddedStartError, match="failed to start: OperationalError") as caught:
        embedded.start()
    assert caught.value.__cause__ is not None
    assert not embedded.running
    embedded.stop()


def test_a_requested_port_is_used(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedCompanion(tmp_path, port=port) as embedded:
        assert embedded.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
