"""`kds-backend` as an installer runs it: a real subprocess, configured only by the environment."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kds_backend.auth.tokens import verify_token
from tests.conftest import JWT_SECRET
from tests.helpers.companion_cli import run_cli
from tests.kds_backend.device_accounts import sign_in

pytestmark = pytest.mark.slow


def test_token_prints_a_jwt_with_the_device_claims(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'companion.db'}"
    args = ("token", "--restaurant", "r7", "--role", "kds", "--station", "grill", "--device", "d1")
    done = run_cli(tmp_path, url, *args)
    assert done.returncode == 0, done.stderr
    claims = verify_token(JWT_SECRET, done.stdout.strip())
    assert claims.role == "authenticated" and claims.sub == "d1"
    meta = claims.app_metadata
    assert (meta.restaurant_id, meta.device_role, meta.stations) == ("r7", "kds", ["grill"])
    assert claims.exp - (claims.iat or 0) == 3600


async def test_device_add_then_the_device_signs_in(
    client: httpx.AsyncClient, tmp_path: Path, database_url: str
) -> None:
    done = run_cli(
        tmp_path,
        database_url,
        *("device", "add", "--restaurant", "r1", "--role", "kds", "--name", "Grill screen"),
        *("--email", "grill@kitchen.test", "--station", "grill", "--station", "fry"),
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if line.startswith("password: "))
    password = lines["password"]
    assert len(password) >= 20
    device_id = done.stdout.split(" device ", 1)[1].split()[0]

    listed = run_cli(tmp_path, database_url, "device", "list", "--restaurant", "r1")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [f"{device_id}\tkds\tgrill@kitchen.test\tGrill screen\tgrill,fry"]
    assert password not in listed.stdout
    other = run_cli(tmp_path, database_url, "device", "list", "--restaurant", "r2")
    assert other.returncode == 0 and other.stdout == ""

    r = await sign_in(client, "grill@kitchen.test", password)
    assert r.status_code == 200, r.text
    claims = verify_token(JWT_SECRET, r.json()["access_token"])
    assert claims.sub == device_id and claims.app_metadata.stations == ["grill", "fry"]
    assert (await sign_in(client, "grill@kitchen.test", password + "x")).status_code == 400


def test_device_add_with_a_given_password_and_refusals(tmp_path: Path, database_url: str) -> None:
    add = ("device", "add", "--restaurant", "r1", "--role", "expo", "--name", "Expo", "--email", "expo@kitchen.test")
    done = run_cli(tmp_path, database_url, *add, "--password", "expo-pass-123")
    assert done.returncode == 0, done.stderr
    assert "password:" not in done.stdout  # not echoed when the installer chose it

    again = run_cli(tmp_path, database_url, *add, "--password", "expo-pass-456")
    assert again.returncode == 2 and "already exists" in again.stderr

    short = run_cli(tmp_path, database_url, *add[:-1], "other@kitchen.test", "--password", "short")
    assert short.returncode == 2 and "password" in short.stderr
    bad_station = run_cli(tmp_path, database_url, *add[:-1], "other@kitchen.test", "--station", "Hot Line")
    assert bad_station.returncode == 2 and "stations" in bad_station.stderr
    bad_role = run_cli(tmp_path, database_url, *add[:5], "chef", "--name", "X", "--email", "x@kitchen.test")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
