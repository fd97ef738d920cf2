"""`/api/v1/devices`: admin-only device accounts, scoped to the admin's restaurant."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api_client.models import DevicePublic
from kds_backend.db.tables import devices, refresh_tokens
from tests.conftest import auth_headers, token_for
from tests.kds_backend.device_accounts import PASSWORD, add_device, sign_in, use_cheap_scrypt


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_scrypt(monkeypatch)


@pytest.fixture
def r2_admin() -> dict[str, str]:
    return auth_headers(token_for("admin", restaurant="r2"))


async def test_admin_creates_a_device_in_its_restaurant(client: httpx.AsyncClient, admin_headers: dict) -> None:
    body = {
        "name": "Grill screen",
        "email": "Grill@Kitchen.test",
        "password": PASSWORD,
        "role": "kds",
        "stations": ["grill"],
        "display": {"yellow_after_s": 240, "red_after_s": 420, "font_scale": 1.25, "sound": False},
    }
    r = await client.post("/api/v1/devices", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    device = DevicePublic.model_validate(r.json())  # extra="forbid": nothing beyond the public shape
    assert device.restaurant_id == "r1" and device.email == "grill@kitchen.test"
    assert device.role == "kds" and device.stations == ["grill"] and device.display.font_scale == 1.25
    assert PASSWORD not in r.text and "scrypt" not in r.text
    listed = (await client.get("/api/v1/devices", headers=admin_headers)).json()
    assert [DevicePublic.model_validate(d) for d in listed] == [device]


async def test_password_is_stored_only_as_a_scrypt_hash(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict
) -> None:
    device = await add_device(client, admin_headers)
    stored = app.state.db.read(
        lambda c: c.execute(sa.select(devices.c.password_hash).where(devices.c.id == device["id"])).scalar_one()
    )
    assert stored.startswith("scrypt$") and PASSWORD not in stored


async def test_duplicate_email_is_409_even_in_another_restaurant(
    client: httpx.AsyncClient, admin_headers: dict, r2_admin: dict
) -> None:
    await add_device(client, admin_headers, email="expo@kitchen.test")
    body = {"name": "Other", "email": "EXPO@kitchen.test", "password": PASSWORD, "role": "expo"}
    for headers in (admin_headers, r2_admin):
        r = await client.post("/api/v1/devices", json=body, headers=headers)
        assert r.status_code == 409, r.text
        assert set(r.json()) >= {"code", "message", "details", "hint"}


@pytest.mark.parametrize(
    "change",
    [
        {"password": "short"},
        {"email": "no-at-sign"},
        {"role": "chef"},
        {"stations": ["Grill Station"]},
        {"name": ""},
        {"password_hash": "scrypt$..."},
        {"restaurant_id": "r2"},
    ],
)
async def test_invalid_bodies_are_422(client: httpx.AsyncClient, admin_headers: dict, change: dict) -> None:
    body = {"name": "Screen", "email": "s@kitchen.test", "password": PASSWORD, "role": "kds", **change}
    r = await client.post("/api/v1/devices", json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert (await client.get("/api/v1/devices", headers=admin_headers)).json() == []


async def test_control_characters_in_name_are_400(client: httpx.AsyncClient, admin_headers: dict) -> None:
    body = {"name": "Grill\x00", "email": "s@kitchen.test", "password": PASSWORD, "role": "kds"}
    r = await client.post("/api/v1/devices", json=body, headers=admin_headers)
    assert r.status_code == 400


@pytest.mark.parametrize("role", ["kds", "expo", "pos"])
async def test_only_admins_manage_devices(client: httpx.AsyncClient, admin_headers: dict, role: str) -> None:
    device = await add_device(client, admin_headers)
    headers = auth_headers(token_for(role))
    body = {"name": "Sneaky", "email": "sneaky@kitchen.test", "password": PASSWORD, "role": "admin"}
    assert (await client.post("/api/v1/devices", json=body, headers=headers)).status_code == 403
    assert (await client.get("/api/v1/devices", headers=headers)).status_code == 403
    assert (await client.delete(f"/api/v1/devices/{device['id']}", headers=headers)).status_code == 403
    listed = (await client.get("/api/v1/devices", headers=admin_headers)).json()
    assert [d["id"] for d in listed] == [device["id"]]


async def test_a_signed_in_kds_device_cannot_manage_devices(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers)
    session = (await sign_in(client, device["email"])).json()
    r = await client.get("/api/v1/devices", headers=auth_headers(session["access_token"]))
    assert r.status_code == 403 and r.json()["code"] == "42501"


async def test_missing_or_expired_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/devices")).status_code == 401
    expired = auth_headers(token_for("admin", ttl_s=-10))
    assert (await client.get("/api/v1/devices", headers=expired)).status_code == 401


async def test_another_restaurant_can_neither_see_nor_delete(
    client: httpx.AsyncClient, admin_headers: dict, r2_admin: dict
) -> None:
    mine = await add_device(client, admin_headers)
    theirs = await add_device(client, r2_admin, role="expo", stations=[])
    assert theirs["restaurant_id"] == "r2"
    r2_list = (await client.get("/api/v1/devices", headers=r2_admin)).json()
    assert [d["id"] for d in r2_list] == [theirs["id"]]
    r = await client.delete(f"/api/v1/devices/{mine['id']}", headers=r2_admin)
    assert r.status_code == 404  # the same answer as for an id that does not exist anywhere
    r1_list = (await client.get("/api/v1/devices", headers=admin_headers)).json()
    assert [d["id"] for d in r1_list] == [mine["id"]]
    assert (await sign_in(client, mine["email"])).status_code == 200


async def test_delete_removes_the_device_and_its_refresh_tokens(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict
) -> None:
    device = await add_device(client, admin_headers)
    keep = await add_device(client, admin_headers)
    for d in (device, device, keep):
        assert (await sign_in(client, d["email"])).status_code == 200

    def tokens_of(device_id: str) -> int:
        query = sa.select(sa.func.count()).select_from(refresh_tokens).where(refresh_tokens.c.device_id == device_id)
        return app.state.db.read(lambda c: c.execute(query).scalar_one())

    assert tokens_of(device["id"]) == 2
    r = await client.delete(f"/api/v1/devices/{device['id']}", headers=admin_headers)
    assert r.status_code == 204 and r.content == b""
    assert tokens_of(device["id"]) == 0 and tokens_of(keep["id"]) == 1
    listed = (await client.get("/api/v1/devices", headers=admin_headers)).json()
    assert [d["id"] for d in listed] == [keep["id"]]
    assert (await client.delete(f"/api/v1/devices/{device['id']}", headers=admin_headers)).status_code == 404


@pytest.mark.parametrize(("device_id", "status"), [("nope", 404), ("a%00b", 404), ("x" * 81, 422)])
async def test_deleting_unknown_or_malformed_ids(
    client: httpx.AsyncClient, admin_headers: dict, device_id: str, status: int
) -> None:
    r = await client.delete(f"/api/v1/devices/{device_id}", headers=admin_headers)
    assert r.status_code == status
