"""One lost answer to a token refresh must never lock a kitchen screen out (issue 13, defect 2).

The real companion runs in this process (so its auth clock can be moved by the test) behind
`ReplyLossProxy`, which loses the reply to one refresh *after* the companion rotated the token. The auth clock
starts an hour and more behind, so every session it issues is already due; when the reply is lost, the clock
jumps to now: the screen was "off the network for an hour", far past GoTrue's 10 s reuse interval. Nothing
sleeps: every wait is on an observable, a signal or the engine, with a timeout.

* companion (default `KDS_REFRESH_REUSE_WINDOW`, 24 h): the used token gets the same child back; no person,
  no password.
* GoTrue-strict companion (`KDS_REFRESH_REUSE_WINDOW=10`: the used token is refused as "Already Used" and
  the family revoked): the stand-in for a Supabase project, whose GoTrue we cannot change. The screen signs
  itself in again with its stored device password.
* the same with no stored password (or a refused one): the cook's window says in words that a person must
  enter the password in SETTINGS, taps stay queued, the screen stops asking the server, and once the
  password is entered the queue drains exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api_client.client import KdsApiClient
from api_client.errors import ApiError, TransportFailure
from api_client.token_provider import SessionTokenProvider
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import (
    Connection,
    build_engine_config,
    credential_path,
    load_credential,
    load_refresh_token,
    refresh_token_path,
)
from kds_app.startup.embedded import EmbeddedCompanion
from kds_app.windows.app import App, Session
from kds_backend.auth.sessions import GOTRUE_REUSE_INTERVAL_S
from kds_backend.db.engine import make_engine
from kds_backend.db.tables import intent_ledger
from sync.engine.engine import SyncEngine
from sync.realtime.observable import Observable
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.helpers.app_screens import (
    item_statuses,
    on_screen,
    pos_order,
    server_order,
    tap_action,
    tap_item,
)
from tests.kds_app.conftest import APIKEY, TIMEOUT_S, until
from tests.kds_backend.device_accounts import PASSWORD, use_cheap_scrypt
from tests.reply_loss_proxy import ReplyLossProxy

pytestmark = pytest.mark.slow

EMAIL = "grill@kitchen.test"
REFRESH = b"grant_type=refresh_token"
PASSWORD_GRANT = b"grant_type=password"
BEHIND_S = 3700.0  # sessions issued this far back expired 100 s ago: the screen must refresh at once
SCREENSHOT = Path("/tmp/kds-sign-in-needed.png")


class AuthClock:
    """The companion's auth clock: real time plus an offset the test moves (never ahead of real time, or the
    tokens it issues would be "issued in the future")."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class ClockedCompanion(EmbeddedCompanion):
    """The embedded companion with the test's auth clock and reuse window."""

    def __init__(self, data_dir: Path, clock: AuthClock, window_s: float | None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "jwt-secret").write_text(JWT_SECRET)  # so the suite's token helpers work against it
        super().__init__(data_dir)
        if window_s is not None:
            self.settings = replace(self.settings, refresh_reuse_window_s=window_s)
        self.clock = clock

    def _app(self) -> FastAPI:
        app = super()._app()
        app.state.auth_clock = self.clock
        return app


class Kitchen:
    """The companion, the proxy in front of it, and what the test does to both."""

    def __init__(self, companion: ClockedCompanion, proxy: ReplyLossProxy, clock: AuthClock) -> None:
        self.companion, self.proxy, self.clock = companion, proxy, clock
        self.lose_refresh_number: int | None = None  # the n-th refresh (1-based) whose reply is lost

    def config(self, **changes: object) -> AppConfig:
        cfg = AppConfig(
            server="companion", url=self.proxy.url, anon_key=APIKEY, email=EMAIL, stations=("grill",), sound=False
        )
        return replace(cfg, **changes)  # type: ignore[arg-type]

    def lose_the_next_refresh_but(self, passing: int = 0) -> None:
        """Lose the reply to the refresh after the next `passing` ones; then an hour has passed for the server."""
        self.lose_refresh_number = self.proxy.seen(REFRESH) + passing + 1
        self.clock.offset = -BEHIND_S

    def _lose(self, line: bytes) -> bool:
        return REFRESH in line and self.proxy.seen(REFRESH) == self.lose_refresh_number

    def _lost(self, _reply: bytes) -> None:
        self.clock.offset = 0.0  # the server acted on it; the screen stays away for an hour

    def lost_child(self) -> str:
        (reply,) = self.proxy.lost_replies
        return json.loads(reply.partition(b"\r\n\r\n")[2])["refresh_token"]

    async def refresh_directly(self, token: str) -> ApiError | None:
        """Present `token` to the companion itself (not through the proxy); the refusal, or None if it worked."""
        async with KdsApiClient(self.companion.url, APIKEY) as api:
            try:
                await api.refresh(token)
            except ApiError as exc:
                return exc
        return None

    def ledger(self) -> list[tuple[str, str]]:
        engine = make_engine(self.companion.settings.database_url)
        try:
            with engine.connect() as conn:
                query = sa.select(intent_ledger.c.kind, intent_ledger.c.status).order_by(intent_ledger.c.device_seq)
                return [(row.kind, row.status) for row in conn.execute(query)]
        finally:
            engine.dispose()


@pytest.fixture
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_scrypt(monkeypatch)


def _companion(tmp_path: Path, window_s: float | None) -> Iterator[tuple[ClockedCompanion, AuthClock]]:
    clock = AuthClock()
    with ClockedCompanion(tmp_path / "companion", clock, window_s) as companion:
        yield companion, clock


async def _kitchen(companion: ClockedCompanion, clock: AuthClock) -> AsyncIterator[Kitchen]:
    proxy = ReplyLossProxy("127.0.0.1", companion.port)
    kitchen = Kitchen(companion, proxy, clock)
    proxy.lose, proxy.on_lost = kitchen._lose, kitchen._lost
    await proxy.start()
    async with httpx.AsyncClient(base_url=companion.url) as http:
        body = {"name": "Grill screen", "email": EMAIL, "password": PASSWORD, "role": "kds", "stations": ["grill"]}
        r = await http.post("/api/v1/devices", json=body, headers=auth_headers(token_for("admin")))
        assert r.status_code == 201, r.text
    try:
        yield kitchen
    finally:
        await proxy.stop()


@pytest.fixture
def default_companion(tmp_path: Path, cheap_scrypt: None) -> Iterator[tuple[ClockedCompanion, AuthClock]]:
    yield from _companion(tmp_path, None)


@pytest.fixture
def strict_companion(tmp_path: Path, cheap_scrypt: None) -> Iterator[tuple[ClockedCompanion, AuthClock]]:
    yield from _companion(tmp_path, GOTRUE_REUSE_INTERVAL_S)


@pytest.fixture
async def kitchen(default_companion: tuple[ClockedCompanion, AuthClock]) -> AsyncIterator[Kitchen]:
    async for made in _kitchen(*default_companion):
        yield made


@pytest.fixture
async def strict_kitchen(strict_companion: tuple[ClockedCompanion, AuthClock]) -> AsyncIterator[Kitchen]:
    async for made in _kitchen(*strict_companion):
        yield made


def provider_of(connection: Connection) -> SessionTokenProvider:
    provider = connection.engine_config.token_provider
    assert isinstance(provider, SessionTokenProvider)
    return provider


async def _taps_sync_after_the_lost_reply(kitchen: Kitchen, data: Path, *, stored_password: bool) -> Connection:
    """Sign in, lose the reply to the screen's first refresh, and check that a tap still reaches the server."""
    kitchen.lose_the_next_refresh_but(0)  # the installer's sign-in is issued already due
    connection = await build_engine_config(kitchen.config(), data, embedded=None, password=PASSWORD)
    if not stored_password:
        credential_path(data).unlink()
    order = await pos_order(kitchen.companion.url, "A1", [("Burger", "grill")])
    engine = SyncEngine(connection.engine_config)
    await engine.start()
    try:
        await until(engine, lambda: any(o.id == order for o in engine.open_tickets("grill")))
        engine.submit("bump_ticket", order, station="grill")
        async with asyncio.timeout(TIMEOUT_S):
            await engine.queue_depth.wait_for(0)
        assert engine.rejected() == []
    finally:
        await engine.stop()
    assert len(kitchen.proxy.lost_replies) == 1  # the reply to a rotation the server did commit was lost
    assert item_statuses(await server_order(kitchen.companion.url, order)) == {"Burger": "done"}
    assert connection.sign_in_needed.value is None and provider_of(connection).sign_in_needed is None
    return connection


async def test_a_lost_refresh_reply_recovers_with_the_same_child_and_no_person(
    kitchen: Kitchen, tmp_path: Path
) -> None:
    data = tmp_path / "screen"
    async with await _taps_sync_after_the_lost_reply(kitchen, data, stored_password=False) as connection:
        child = kitchen.lost_child()
        # The used token, presented an hour later, got the very child whose answer was lost: no new family,
        # no password (there is none stored), nothing revoked.
        assert provider_of(connection).session.refresh_token == child == load_refresh_token(data)
        assert kitchen.proxy.seen(PASSWORD_GRANT) == 1  # only the installer's sign-in
        assert await provider_of(connection).refresh() is not None  # and the child works


async def test_gotrue_strict_revocation_is_recovered_with_the_stored_password(
    strict_kitchen: Kitchen, tmp_path: Path
) -> None:
    """Supabase stand-in: GoTrue refuses the used token after its 10 s reuse interval and revokes the family.
    The screen signs itself in again with the device password it stored when the installer typed it."""
    data = tmp_path / "screen"
    async with await _taps_sync_after_the_lost_reply(strict_kitchen, data, stored_password=True) as connection:
        child = strict_kitchen.lost_child()
        refusal = await strict_kitchen.refresh_directly(child)
        assert refusal is not None and refusal.status == 400  # the old family is revoked
        assert strict_kitchen.proxy.seen(PASSWORD_GRANT) == 2  # the installer's sign-in, then the screen's own
        session = provider_of(connection).session
        assert session.refresh_token != child and session.refresh_token == load_refresh_token(data)
        assert session.user.email == EMAIL
        assert credential_path(data).stat().st_mode & 0o777 == 0o600


async def test_a_refused_stored_password_says_a_person_is_needed_and_stops_asking(
    strict_kitchen: Kitchen, tmp_path: Path
) -> None:
    """Supabase stand-in, and the device's password was changed since the screen stored it."""
    await _a_refused_stored_password_needs_a_person(strict_kitchen, tmp_path / "screen")


async def _a_refused_stored_password_needs_a_person(kitchen: Kitchen, data: Path) -> None:
    connection = await build_engine_config(kitchen.config(), data, embedded=None, password=PASSWORD)
    credential_path(data).write_text(json.dumps({"email": EMAIL, "password": "changed-since"}))
    kitchen.lose_the_next_refresh_but(0)
    provider = provider_of(connection)
    async with connection:
        with pytest.raises(TransportFailure):
            await provider.refresh()  # the reply is lost
        with pytest.raises(ApiError) as caught:
            await provider.refresh()  # refused (already used), and the stored password is refused too
        assert caught.value.code == "invalid_credentials"
        reason = connection.sign_in_needed.value
        assert reason is not None and "Invalid login credentials" in reason and f"Enter {EMAIL}'s password" in reason
        assert load_credential(data, EMAIL) is None  # a refused password is not tried again
        asked = kitchen.proxy.seen(b"/auth/v1/token")
        for _ in range(20):
            with pytest.raises(ApiError):
                await provider.refresh()
        assert kitchen.proxy.seen(b"/auth/v1/token") == asked  # no loop on the server


async def test_a_refused_saved_token_at_start_signs_in_with_the_stored_password(
    strict_kitchen: Kitchen, tmp_path: Path
) -> None:
    cfg = strict_kitchen.config()
    async with await build_engine_config(cfg, tmp_path, embedded=None, password=PASSWORD):
        pass
    refresh_token_path(tmp_path).write_text("revoked-while-the-screen-was-off-00000000000")
    async with await build_engine_config(cfg, tmp_path, embedded=None) as connection:
        assert connection.session is not None and connection.session.user.email == EMAIL
        assert load_refresh_token(tmp_path) == connection.session.refresh_token


async def _next_session(app: App, old: Session | None) -> Session:
    """The session the app runs after `old` (App has no event for "the next one": its state is checked on the
    loop's turns, with a timeout)."""
    async with asyncio.timeout(TIMEOUT_S):
        while app.session in (None, old) or not app.session_started.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert app.session is not None
    return app.session


class CountingSender:
    """The engine's intent sender, counting the uploader's attempts (an observable the test can await)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.attempts: Observable[int] = Observable(0)

    async def apply_intents(self, intents: Any) -> Any:
        self.attempts.set(self.attempts.value + 1)
        return await self.inner.apply_intents(intents)


async def test_with_no_stored_password_the_window_says_so_taps_queue_and_drain_once_after_settings(
    strict_kitchen: Kitchen, tmp_path: Path
) -> None:
    """GoTrue-strict (the Supabase stand-in) and no stored password: a screen set up before screens kept it."""
    kitchen, data = strict_kitchen, tmp_path / "screen"
    cfg = kitchen.config()
    order = await pos_order(kitchen.companion.url, "A7", [("Burger", "grill"), ("Fries", "grill")])
    async with await build_engine_config(cfg, data, embedded=None, password=PASSWORD) as first:
        engine = SyncEngine(first.engine_config)
        await engine.start()
        try:
            await until(engine, lambda: any(o.id == order for o in engine.open_tickets("grill")))
        finally:
            await engine.stop()
    credential_path(data).unlink()

    # The screen starts (its own refresh at start passes), then the reply to its next refresh is lost and it
    # is away for an hour: the token comes back "Already Used", the family is revoked, no password is stored.
    kitchen.lose_the_next_refresh_but(1)
    app = App(cfg, config_file=tmp_path / "config.json", data_dir=data)
    running = asyncio.ensure_future(app.run())
    try:
        session = await _next_session(app, None)
        session.window.resize(1366, 768)
        async with asyncio.timeout(TIMEOUT_S):
            await session.connection.sign_in_needed.wait_for(lambda reason: reason is not None)
        banner = session.window.offline_banner
        assert banner.isVisible()
        assert session.window.top.connection.text() == "● SIGNED OUT", "not ONLINE: nothing syncs while signed out"
        assert banner.text() == (
            f"SIGN-IN NEEDED · nothing waiting to sync · tap SETTINGS and enter the password for {EMAIL}"
        )
        asked = kitchen.proxy.seen(b"/auth/v1/token")

        # The kitchen keeps working: a strike and a bump, on the glass, saved here.
        assert on_screen(session, order)
        sender = session.engine.uploader.sender = CountingSender(session.engine.uploader.sender)
        await tap_item(session, order, "Burger")
        await tap_action(session, order)
        await tap_action(session, order)
        assert not on_screen(session, order) and session.engine.queue_depth.value == 2
        assert banner.text().startswith("SIGN-IN NEEDED · 2 taps waiting, saved here · tap SETTINGS")
        session.window.repaint()
        assert session.window.grab().save(str(SCREENSHOT))
        # The uploader tries, is told "sign in", and keeps both taps; the screen does not ask the server.
        async with asyncio.timeout(TIMEOUT_S):
            await sender.attempts.wait_for(lambda n: n >= 2)
        assert session.engine.queue_depth.value == 2 and session.engine.rejected() == []
        assert "AuthError" in (session.engine.last_error.value or "")
        assert kitchen.proxy.seen(b"/auth/v1/token") == asked
        assert kitchen.ledger() == []

        # Someone taps SETTINGS: it says why, takes the password, and the screen carries on.
        session.window.top.settings.click()
        dialog = app.dialog
        assert dialog is not None and dialog.isVisible()
        assert "refused this screen's sign-in" in dialog.error_label.text()
        dialog.password_edit.setText(PASSWORD)
        dialog.save_button.click()
        resumed = await _next_session(app, session)
        async with asyncio.timeout(TIMEOUT_S):
            await resumed.engine.queue_depth.wait_for(0)
        assert resumed.engine.rejected() == []
        assert not resumed.window.offline_banner.text().startswith("SIGN-IN NEEDED")
        assert resumed.window.top.connection.text() != "● SIGNED OUT"
        assert load_credential(data, EMAIL) == PASSWORD  # next time it signs itself in
    finally:
        app.request_stop()
        async with asyncio.timeout(TIMEOUT_S):
            assert await running == 0
    # Exactly once: one strike and one bump in the server's ledger, both applied; the ticket is done there.
    assert kitchen.ledger() == [("bump_item", "applied"), ("bump_ticket", "applied")]
    assert item_statuses(await server_order(kitchen.companion.url, order)) == {"Burger": "done", "Fries": "done"}
