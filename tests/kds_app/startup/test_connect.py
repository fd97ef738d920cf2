"""From an AppConfig to a running engine: the embedded default, and a device signing in to a embedded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PySide6.QtWidgets import QApplication

from api_client.models import DeviceCreate, DeviceRole, OrderWithItems
from kds_app.startup.config import AppConfig, ConfigError
from kds_app.startup.connect import (
    Connection,
    SignInNeeded,
    build_engine_config,
    device_id,
    load_refresh_token,
    refresh_token_path,
)
from kds_app.startup.embedded import EmbeddedCompanion
from kds_app.windows.app import App
from kds_backend.auth import passwords
from kds_backend.auth.accounts import create_device
from kds_backend.db.engine import make_engine
from kds_backend.db.writer import write_transaction
from sync.engine.engine import SyncEngine
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(20.0)
PASSWORD = "correct-horse-battery"
EMAIL = "grill@kitchen.test"


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedCompanion]:
    with EmbeddedCompanion(tmp_path / "companion") as c:
        yield c


@pytest.fixture
def device(embedded: EmbeddedCompanion, monkeypatch: pytest.MonkeyPatch) -> str:
    """A grill screen's account in restaurant `r1`, created as `kds-backend device add` does."""
    monkeypatch.setattr(passwords, "DEFAULT_PARAMS", passwords.ScryptParams(n=2**8, r=8, p=1))
    body = DeviceCreate(name="Grill screen", email=EMAIL, password=PASSWORD, role=DeviceRole.kds, stations=["grill"])
    engine = make_engine(embedded.settings.database_url)
    try:
        with write_transaction(engine) as w:
            created = create_device(w.conn, "r1", body, passwords.hash_password(PASSWORD), w.now)
    finally:
        engine.dispose()
    return created.id


def companion_config(embedded: EmbeddedCompanion, **changes: object) -> AppConfig:
    cfg = AppConfig(server="companion", url=embedded.url, anon_key=embedded.anon_key, email=EMAIL)
    return replace(cfg, **changes)  # type: ignore[arg-type]


async def post_order(embedded: EmbeddedCompanion, number: str, restaurant: str = "local") -> uuid.UUID:
    token = await embedded.token_provider(DeviceRole.pos, "till-1", restaurant_id=restaurant).get_token()
    headers = {"apikey": embedded.anon_key, "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"number": number, "items": [{"name": "Burger", "quantity": 1, "category": "grill"}]}
    async with httpx.AsyncClient(base_url=embedded.url, timeout=10) as http:
        r = await http.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


async def until(engine: SyncEngine, ready: Callable[[], bool]) -> None:
    """Wait for the engine's change notifications until `ready()` holds; never by sleeping."""
    async with engine.changes() as changes:
        async with asyncio.timeout(TIMEOUT_S):
            while not ready():
                await changes.get()


def shown(engine: SyncEngine, order_id: uuid.UUID, station: str | None = "grill") -> OrderWithItems | None:
    return next((o for o in engine.open_tickets(station) if o.id == order_id), None)


@asynccontextmanager
async def running(connection: Connection) -> AsyncIterator[SyncEngine]:
    engine = SyncEngine(connection.engine_config)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        await connection.aclose()


# ---------------------------------------------------------------- embedded


async def test_the_embedded_default_runs_an_engine_that_gets_orders(
    embedded: EmbeddedCompanion, tmp_path: Path
) -> None:
    data = tmp_path / "screen"
    connection = await build_engine_config(AppConfig(stations=("grill",)), data, embedded=embedded)
    config = connection.engine_config
    assert (config.url, config.anon_key, config.restaurant_id) == (embedded.url, embedded.anon_key, "local")
    assert config.role is DeviceRole.kds and config.stations == ("grill",)
    assert config.data_path == data / "screen.sqlite3"
    assert config.device_id == device_id(data) == (data / "device-id").read_text()
    async with running(connection) as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        order = await post_order(embedded, "L1")
        await until(engine, lambda: shown(engine, order) is not None)
        ticket = shown(engine, order)
        assert ticket is not None and ticket.number == "L1"
        # The screen's own taps go through: its minted token is accepted by the intent RPC.
        engine.submit("start", order)
        await asyncio.wait_for(engine.queue_depth.wait_for(0), TIMEOUT_S)
        assert engine.rejected() == []
        await until(engine, lambda: (t := shown(engine, order)) is not None and t.status.value == "in_progress")


async def test_embedded_device_id_is_stable_and_expo_view_gives_the_expo_role(
    embedded: EmbeddedCompanion, tmp_path: Path
) -> None:
    first = await build_engine_config(AppConfig(), tmp_path, embedded=embedded)
    second = await build_engine_config(AppConfig(view="expo"), tmp_path, embedded=embedded)
    assert first.engine_config.device_id == second.engine_config.device_id
    assert first.engine_config.role is DeviceRole.kds and second.engine_config.role is DeviceRole.expo
    other = await build_engine_config(AppConfig(retention_days=14), tmp_path / "other", embedded=embedded)
    assert other.engine_config.device_id != first.engine_config.device_id
    assert (first.engine_config.retention_days, other.engine_config.retention_days) == (2, 14)


async def test_embedded_without_a_running_companion_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="embedded companion is not running"):
        await build_engine_config(AppConfig(), tmp_path, embedded=None)
    stopped = EmbeddedCompanion(tmp_path / "c")
    with pytest.raises(ConfigError, match="embedded companion is not running"):
        await build_engine_config(AppConfig(), tmp_path, embedded=stopped)


# ---------------------------------------------------------------- companion: device sign-in


async def test_password_sign_in_saves_the_refresh_token_privately(
    embedded: EmbeddedCompanion, device: str, tmp_path: Path
) -> None:
    data = tmp_path / "screen"
    connection = await build_engine_config(companion_config(embedded), data, embedded=None, password=PASSWORD)
    config = connection.engine_config
    assert (config.restaurant_id, config.device_id, config.role) == ("r1", device, DeviceRole.kds)
    assert config.stations == ("grill",)  # from the account, as the config names none
    assert connection.session is not None
    saved = refresh_token_path(data)
    assert saved.read_text() == connection.session.refresh_token
    assert saved.stat().st_mode & 0o777 == 0o600
    # The password is kept only in its own private file, to sign in again with no person (issue 13).
    holding = [p.name for p in data.iterdir() if p.is_file() and PASSWORD in p.read_text(errors="replace")]
    assert holding == ["device-password"] and (data / "device-password").stat().st_mode & 0o777 == 0o600

    async with running(connection) as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        order = await post_order(embedded, "C1", restaurant="r1")
        await until(engine, lambda: shown(engine, order) is not None)
        # A refresh rotates the token; the new one is written at once.
        before = saved.read_text()
        await config.token_provider.refresh(await config.token_provider.get_token())
        assert saved.read_text() != before
        assert saved.stat().st_mode & 0o777 == 0o600
    assert connection.auth_client is None  # closed with the connection


async def test_a_restart_without_password_uses_the_saved_refresh_token(
    embedded: EmbeddedCompanion, device: str, tmp_path: Path
) -> None:
    cfg = companion_config(embedded, stations=("grill", "fry"))
    async with await build_engine_config(cfg, tmp_path, embedded=None, password=PASSWORD) as first:
        used = load_refresh_token(tmp_path)
    async with await build_engine_config(cfg, tmp_path, embedded=None) as second:
        assert second.engine_config.device_id == device
        assert second.engine_config.stations == ("grill", "fry")  # the config's choice wins
        assert load_refresh_token(tmp_path) not in (None, used)  # rotated and saved
    assert first.session is not None and second.session is not None


async def test_a_screen_signed_in_before_starts_offline_and_syncs_when_the_server_is_back(
    embedded: EmbeddedCompanion, device: str, tmp_path: Path
) -> None:
    cfg = companion_config(embedded)
    data = tmp_path / "screen"
    async with running(await build_engine_config(cfg, data, embedded=None, password=PASSWORD)) as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        order = await post_order(embedded, "C9", restaurant="r1")
        await until(engine, lambda: shown(engine, order) is not None)
    port, companion_dir = embedded.port, embedded.data_dir
    embedded.stop()  # the hub is down when the screen powers up

    offline = await build_engine_config(cfg, data, embedded=None)
    assert offline.engine_config.device_id == device and offline.engine_config.restaurant_id == "r1"
    async with running(offline) as engine:
        ticket = shown(engine, order)
        assert ticket is not None  # the kitchen sees what it had
        engine.submit("bump_ticket", order, station="grill")
        assert shown(engine, order) is None and engine.queue_depth.value == 1
        with EmbeddedCompanion(companion_dir, port):  # the hub is back
            await asyncio.wait_for(engine.queue_depth.wait_for(0), TIMEOUT_S)
            assert engine.rejected() == []  # applied by the server on the saved session's token


async def test_a_hub_that_takes_connections_but_never_answers_is_said_at_once_then_the_last_sign_in_is_used(
    embedded: EmbeddedCompanion, device: str, tmp_path: Path, qapp: QApplication
) -> None:
    """Judged from outside: a screen restarted while its hub was frozen (SIGSTOP) showed a black glass for the
    sign-in's whole 10 s timeout. It now says it is connecting, and where, until the hub answers or fails."""
    cfg = companion_config(embedded)
    data = tmp_path / "screen"
    async with await build_engine_config(cfg, data, embedded=None, password=PASSWORD):
        pass  # signed in once: the screen has a saved sign-in
    held: list[asyncio.StreamWriter] = []

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    frozen = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{frozen.sockets[0].getsockname()[1]}"
    app = App(replace(cfg, url=url), config_file=tmp_path / "config.json", data_dir=data)
    running = asyncio.ensure_future(app.run())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await app.connecting_shown.wait()
        window = app.not_connected
        assert window is not None and window.isVisible() and app.session is None
        assert window.title.text() == "Connecting…" and url in window.reason_label.text()
        assert window.settings_button.isVisible() and not window.retry_button.isVisible()
        window.settings_button.click()  # a cook opens the settings while it connects
        dialog = app.dialog
        assert dialog is not None and dialog.isVisible()
        frozen.close()  # the hub fails outright: its connections are dropped
        for writer in held:
            writer.transport.abort()
        async with asyncio.timeout(TIMEOUT_S):
            await app.session_started.wait()
        assert app.session is not None and app.session.window.isVisible()
        assert app.not_connected is None, "the connecting window went when the tickets came"
        # The settings stay open over the tickets (not deleted with the connecting window), and SETTINGS still works.
        assert app.dialog is dialog and dialog.isVisible() and dialog.parent() is app.session.window
        dialog.cancel_button.click()
        app.session.window.top.settings.click()
        assert app.dialog is not None and app.dialog.isVisible()
    finally:
        app.request_stop()
        async with asyncio.timeout(TIMEOUT_S):
            assert await running == 0
        frozen.close()


async def test_wrong_password_asks_to_sign_in_again(embedded: EmbeddedCompanion, device: str, tmp_path: Path) -> None:
    with pytest.raises(SignInNeeded) as caught:
        await build_engine_config(companion_config(embedded), tmp_path, embedded=None, password="not-the-password")
    assert caught.value.reason == f"Sign-in as {EMAIL} was refused: Invalid login credentials"
    assert load_refresh_token(tmp_path) is None


async def test_no_password_and_no_saved_token_asks_to_sign_in(embedded: EmbeddedCompanion, tmp_path: Path) -> None:
    with pytest.raises(SignInNeeded, match=f"Sign in with {EMAIL}'s password"):
        await build_engine_config(companion_config(embedded), tmp_path, embedded=None)


async def test_a_revoked_refresh_token_asks_to_sign_in_and_is_forgotten(
    embedded: EmbeddedCompanion, device: str, tmp_path: Path
) -> None:
    cfg = companion_config(embedded)
    async with await build_engine_config(cfg, tmp_path, embedded=None, password=PASSWORD):
        pass
    refresh_token_path(tmp_path).write_text("revoked-or-from-another-server")
    (tmp_path / "device-password").unlink()  # no stored password (with one it signs in again: test_sign_in_recovery)
    with pytest.raises(SignInNeeded, match=r"saved sign-in is no longer valid \(.*Not Found\); sign in with grill@"):
        await build_engine_config(cfg, tmp_path, embedded=None)
    assert load_refresh_token(tmp_path) is None


async def test_a_pos_account_is_not_a_screen(embedded: EmbeddedCompanion, device: str, tmp_path: Path) -> None:
    body = DeviceCreate(name="Till", email="till@kitchen.test", password=PASSWORD, role=DeviceRole.pos)
    engine = make_engine(embedded.settings.database_url)
    try:
        with write_transaction(engine) as w:
            create_device(w.conn, "r1", body, passwords.hash_password(PASSWORD), w.now)
    finally:
        engine.dispose()
    cfg = companion_config(embedded, email="till@kitchen.test")
    with pytest.raises(SignInNeeded, match="is a pos device, not a kitchen screen"):
        await build_engine_config(cfg, tmp_path, embedded=None, password=PASSWORD)
    assert load_refresh_token(tmp_path) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"url": None}, "url is needed to connect to the companion"), ({"anon_key": None}, "anon_key is needed")],
)
async def test_missing_url_or_key_is_a_config_error(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    cfg = replace(AppConfig(server="companion", url="http://127.0.0.1:9", anon_key="k", email=EMAIL), **changes)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        await build_engine_config(cfg, tmp_path, embedded=None, password=PASSWORD)


async def test_the_realtime_setting_reaches_the_engine(embedded: EmbeddedCompanion, tmp_path: Path) -> None:
    """`realtime: broadcast` (Broadcast from Database, the choice on Supabase) is the engine's; the default is
    `postgres_changes`. tests/kds_backend/realtime/test_broadcast_from_database.py runs an engine on it."""
    default = await build_engine_config(AppConfig(), tmp_path, embedded=embedded)
    chosen = await build_engine_config(AppConfig(realtime="broadcast"), tmp_path, embedded=embedded)
    assert (default.engine_config.realtime, chosen.engine_config.realtime) == ("postgres_changes", "broadcast")
    with pytest.raises(ConfigError, match="realtime"):
        AppConfig(realtime="websocket")  # type: ignore[arg-type]
