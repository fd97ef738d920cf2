"""Pairing a screen with a short code, against a live companion (`kds-backend serve`, SQLite and PostgreSQL):
`kds-backend pair` prints a one-time code; `POST /api/v1/pair` exchanges it once for the URL, the anon key and a
device sign-in that works; a reused, expired or wrong code is refused in words; guessing is rate-limited."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kds_backend.auth.pairing import create_code, format_code
from kds_backend.db.engine import make_engine
from kds_backend.db.writer import write_transaction
from tests.conftest import JWT_SECRET
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    live = LiveServer(tmp_path, database_url, JWT_SECRET)
    try:
        await asyncio.to_thread(live.wait_ready, 90)
        yield live
    finally:
        live.stop()


def cli_pair(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KDS_DATA_DIR": str(server.data_dir), "KDS_JWT_SECRET": JWT_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "pair", "--database-url", server.database_url, *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def printed_code(out: str) -> str:
    found = re.search(r"pairing code: ([A-Z0-9]{4}-[A-Z0-9]{4})", out)
    assert found, out
    return found.group(1)


async def test_a_code_pairs_once_and_the_sign_in_works(server: LiveServer) -> None:
    done = await asyncio.to_thread(cli_pair, server, "--restaurant", "r1", "--station", "grill")
    assert done.returncode == 0, done.stderr
    code = printed_code(done.stdout)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        # Typed the way a person types it: lower case, no dash, spaces around.
        answer = await http.post("/api/v1/pair", json={"code": f"  {code.replace('-', '').lower()} "})
        assert answer.status_code == 200, answer.text
        paired = answer.json()
        assert paired["url"] == server.url
        assert paired["restaurant_id"] == "r1" and paired["role"] == "kds" and paired["stations"] == ["grill"]
        assert {"grill", "fry", "kitchen"} <= set(paired["known_stations"])
        # What it gave is enough to sign in as that device, with no other key.
        signed_in = await http.post(
            "/auth/v1/token", params={"grant_type": "password"}, headers={"apikey": paired["anon_key"]},
            json={"email": paired["email"], "password": paired["password"]},
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
        meta = signed_in.json()["user"]["app_metadata"]
        assert (meta["restaurant_id"], meta["device_role"], meta["stations"]) == ("r1", "kds", ["grill"])
        # The screen's station list comes from the server, signed in.
        stations = await http.get(
            "/api/v1/stations", headers={"apikey": paired["anon_key"], "Authorization": f"Bearer {token}"}
        )
        assert stations.status_code == 200 and stations.json()["mine"] == ["grill"]
        assert "grill" in stations.json()["stations"]

        again = await http.post("/api/v1/pair", json={"code": code})
        assert again.status_code == 410 and "already used" in again.json()["message"]


async def test_expired_and_wrong_codes_are_refused_in_words_and_guessing_is_limited(server: LiveServer) -> None:
    engine = make_engine(server.database_url)
    try:
        with write_transaction(engine) as w:
            old = create_code(
                w.conn, "r1", role="kds", stations=["fry"], name="fry", now=datetime.now(UTC) - timedelta(minutes=11),
                valid_for=timedelta(minutes=10),
            )
    finally:
        engine.dispose()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        expired = await http.post("/api/v1/pair", json={"code": format_code(old)})
        assert expired.status_code == 410 and "expired" in expired.json()["message"]
        wrong = await http.post("/api/v1/pair", json={"code": "ABCD-EFGH"})
        assert wrong.status_code == 404 and "No such pairing code" in wrong.json()["message"]
        short = await http.post("/api/v1/pair", json={"code": "ABC"})
        assert short.status_code == 400 and "8 letters and digits" in short.json()["message"]
        statuses = [(await http.post("/api/v1/pair", json={"code": "ZZZZ-ZZZZ"})).status_code for _ in range(3)]
        assert statuses[:2] == [404, 404] and statuses[2] == 429  # 5 tries, then a wait
        limited = await http.post("/api/v1/pair", json={"code": "ZZZZ-ZZZZ"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # Nothing was made for the refused codes.
    listing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "kds_backend.cli", "device", "list", "--restaurant", "r1",
         "--database-url", server.database_url],
        env={**os.environ, "KDS_DATA_DIR": str(server.data_dir), "KDS_JWT_SECRET": JWT_SECRET},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert listing.stdout.strip() == ""


def test_the_cli_refuses_a_bad_station_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "KDS_DATA_DIR": str(tmp_path), "KDS_JWT_SECRET": JWT_SECRET}
    done = subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "pair", "--restaurant", "r1", "--station", "Grill Line",
         "--database-url", f"sqlite:///{tmp_path / 'c.db'}"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2 and "--station" in done.stderr and "pairing code" not in done.stdout
