"""From an `AppConfig` to the sync engine's `EngineConfig`: who this screen is and where its tokens come from.

* embedded: the in-process companion mints the screen's tokens; the device id is generated once per data
  directory; the restaurant is `cfg.restaurant_id`.
* companion / Supabase: the device signs in (GoTrue's password grant) with its email and a password typed
  in the settings, or, on later starts, with the refresh token kept in `<data dir>/refresh-token` (0600,
  rewritten on every rotation). Restaurant, role and device id come from the signed-in account.

A screen must never be locked out by one lost answer to a refresh (issue 13). The password that signed it in
is kept beside the refresh token, `<data dir>/device-password` (0600, with the email it belongs to), and is
used only when the server *refuses* the refresh token (already used, revoked, not found: on Supabase, GoTrue
revokes the whole family when a used token comes back more than 10 s later), to sign in again without a
person. A refresh that got no answer is simply tried again. With no stored password, or one that is refused
too, `Connection.sign_in_needed` says so in words, the window shows it, taps stay queued in the outbox, and
the screen stops asking the server until a person enters the password in the settings.

The returned `Connection` owns the API client the session refreshes through: keep it open while the engine
runs, `aclose()` it after `engine.stop()`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from api_client.client import KdsApiClient
from api_client.errors import ApiError, ClientError
from api_client.models import AuthSession, DeviceRole
from api_client.token_provider import SessionTokenProvider, refused
from sync import EngineConfig, Observable

from .config import AppConfig, ConfigError, write_atomically

if TYPE_CHECKING:  # the companion server costs ~400 ms to import; a screen on a remote server never needs it
    from .embedded import EmbeddedCompanion

__all__ = [
    "Connection",
    "SignInNeeded",
    "build_engine_config",
    "credential_path",
    "device_id",
    "forget_credential",
    "forget_refresh_token",
    "load_credential",
    "load_refresh_token",
    "load_session",
    "refresh_token_path",
    "save_credential",
    "save_refresh_token",
]

log = logging.getLogger(__name__)

SCREEN_DB = "screen.sqlite3"
DEVICE_ID_FILE = "device-id"
REFRESH_TOKEN_FILE = "refresh-token"
SESSION_FILE = "session.json"  # the last session: identity for an offline start (0600, like the token)
CREDENTIAL_FILE = "device-password"  # the device account's password, to sign in again unattended (0600)
SCREEN_ROLES = (DeviceRole.kds, DeviceRole.expo)


class SignInNeeded(Exception):
    """The screen cannot sign in by itself: the settings must ask for the password. `reason` is readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Connection:
    """What the app needs to run the engine, plus the auth client that must outlive it."""

    engine_config: EngineConfig
    session: AuthSession | None = None  # the signed-in session (companion / Supabase); None when embedded
    auth_client: KdsApiClient | None = None
    account: str | None = None  # the device account's email (companion / Supabase)
    sign_in_needed: Observable[str | None] = field(default_factory=lambda: Observable(None))
    """None while the screen keeps itself signed in; otherwise why a person must enter the password in the
    settings (the server refused the session and there is no stored password, or it was refused too)."""

    async def aclose(self) -> None:
        if self.auth_client is not None:
            client, self.auth_client = self.auth_client, None
            await client.aclose()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def build_engine_config(
    cfg: AppConfig,
    data_dir: Path,
    *,
    embedded: EmbeddedCompanion | None,
    password: str | None = None,
) -> Connection:
    """The engine's configuration for `cfg`. `ConfigError` for settings that cannot work (no URL, no key, no
    running embedded companion); `SignInNeeded` when a password is needed; `api_client.errors.ClientError`
    (e.g. `TransportFailure`) when the server could not be asked at all."""
    _ensure_dir(data_dir)
    if cfg.server == "embedded":
        return _embedded(cfg, data_dir, embedded)
    return await _signed_in(cfg, data_dir, password)


def _embedded(cfg: AppConfig, data_dir: Path, embedded: EmbeddedCompanion | None) -> Connection:
    if embedded is None or not embedded.running:
        raise ConfigError("server is embedded, but the embedded companion is not running", field="server")
    device = device_id(data_dir)
    role = DeviceRole.expo if cfg.view == "expo" else DeviceRole.kds
    config = EngineConfig(
        url=embedded.url,
        anon_key=embedded.anon_key,
        restaurant_id=cfg.restaurant_id,
        device_id=device,
        role=role,
        token_provider=embedded.token_provider(role, device, cfg.stations, restaurant_id=cfg.restaurant_id),
        data_path=data_dir / SCREEN_DB,
        stations=cfg.stations,
        retention_days=cfg.retention_days,
        realtime=cfg.realtime,
    )
    return Connection(config)


async def _signed_in(cfg: AppConfig, data_dir: Path, password: str | None) -> Connection:
    where = "the companion" if cfg.server == "companion" else "the Supabase project"
    if not cfg.url:
        raise ConfigError(f"url is needed to connect to {where}", field="url")
    if not cfg.anon_key:
        raise ConfigError(f"anon_key is needed to connect to {where}", field="anon_key")
    auth = KdsApiClient(cfg.url, cfg.anon_key)
    try:
        try:
            session = await _session(auth, cfg, data_dir, password)
        except ClientError as exc:
            # The server is unreachable or failing, not refusing: a screen that was signed in before starts on
            # its last session and works offline; the token is refreshed once the server answers again.
            saved = load_session(data_dir) if exc.retryable and not password else None
            if saved is None:
                raise
            log.warning("cannot reach %s (%s); starting offline on the saved sign-in", where, exc)
            session = saved
        _remember(data_dir, session)
        meta = session.user.app_metadata
        if meta.restaurant_id is None or meta.device_role is None:
            forget_refresh_token(data_dir)
            forget_credential(data_dir)
            raise SignInNeeded(f"{_who(cfg)} is not a device account (its app_metadata names no restaurant or role)")
        if meta.device_role not in SCREEN_ROLES:
            forget_refresh_token(data_dir)
            forget_credential(data_dir)
            raise SignInNeeded(f"{_who(cfg)} is a {meta.device_role.value} device, not a kitchen screen (kds or expo)")
        if password and cfg.email:
            save_credential(data_dir, cfg.email, password)  # the one a refused refresh signs in again with
        sign_in_needed: Observable[str | None] = Observable(None)

        def signed_out(refusal: ApiError) -> None:
            log.error("%s refused this screen's sign-in (%s); a person must enter the password", where, refusal)
            sign_in_needed.set(
                f"The server refused this screen's sign-in ({refusal.message}) and it has no password that works. "
                f"Enter {_who(cfg)}'s password and tap Save: the taps waiting here will then sync."
            )

        provider = SessionTokenProvider(
            session,
            auth.refresh,
            on_session=lambda new: _remember(data_dir, new),
            reauthenticate=lambda: _sign_in_again(auth, cfg, data_dir),
            on_signed_out=signed_out,
        )
        config = EngineConfig(
            url=cfg.url,
            anon_key=cfg.anon_key,
            restaurant_id=meta.restaurant_id,
            device_id=session.user.id,
            role=meta.device_role,
            token_provider=provider,
            data_path=data_dir / SCREEN_DB,
            stations=cfg.stations or tuple(meta.stations),
            retention_days=cfg.retention_days,
            realtime=cfg.realtime,
        )
    except BaseException:
        await auth.aclose()
        raise
    return Connection(config, session=session, auth_client=auth, account=cfg.email, sign_in_needed=sign_in_needed)


async def _session(auth: KdsApiClient, cfg: AppConfig, data_dir: Path, password: str | None) -> AuthSession:
    if password:
        if not cfg.email:
            raise SignInNeeded("Enter the screen's email to sign in")
        try:
            return await auth.sign_in(cfg.email, password)
        except ApiError as exc:
            if refused(exc):
                raise SignInNeeded(f"Sign-in as {cfg.email} was refused: {exc.message}") from exc
            raise
    saved = load_refresh_token(data_dir)
    refusal: ApiError | None = None
    if saved is not None:
        try:
            return await auth.refresh(saved)
        except ApiError as exc:
            if not refused(exc):
                raise
            refusal = exc
    # No refresh token, or a refused one (on Supabase: reused after GoTrue's 10 s, so the family is revoked).
    try:
        again = await _sign_in_again(auth, cfg, data_dir)
    except ApiError as exc:
        if not refused(exc):
            raise
        forget_refresh_token(data_dir)
        raise SignInNeeded(
            f"This screen's stored password was refused ({exc.message}); sign in with {_who(cfg)}'s password"
        ) from exc
    if again is not None:
        return again
    if refusal is None:
        raise SignInNeeded(f"Sign in with {_who(cfg)}'s password to connect this screen")
    forget_refresh_token(data_dir)
    raise SignInNeeded(
        f"This screen's saved sign-in is no longer valid ({refusal.message}); sign in with {_who(cfg)}'s password"
    ) from refusal


async def _sign_in_again(auth: KdsApiClient, cfg: AppConfig, data_dir: Path) -> AuthSession | None:
    """A new session from the stored password, with no person; None if there is none for this account.
    A refused password is forgotten (changed, or the device deleted): a person must enter the new one."""
    password = load_credential(data_dir, cfg.email) if cfg.email else None
    if password is None or cfg.email is None:
        return None
    log.warning("signing in again as %s with the stored password", cfg.email)
    try:
        return await auth.sign_in(cfg.email, password)
    except ApiError as exc:
        if refused(exc):
            forget_credential(data_dir)
        raise


def _ensure_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)


def _who(cfg: AppConfig) -> str:
    return cfg.email or "the device account"


# ---------------------------------------------------------------- files in the data directory


def device_id(data_dir: Path) -> str:
    """This screen's id: generated once, then read from `<data dir>/device-id`."""
    path = data_dir / DEVICE_ID_FILE
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    new = f"screen-{uuid.uuid4()}"
    _write_private(path, new)
    return new


def refresh_token_path(data_dir: Path) -> Path:
    return data_dir / REFRESH_TOKEN_FILE


def load_refresh_token(data_dir: Path) -> str | None:
    try:
        token = refresh_token_path(data_dir).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def save_refresh_token(data_dir: Path, token: str) -> None:
    """Atomically, readable by this user only (0600): a crash never leaves a half-written token."""
    _write_private(refresh_token_path(data_dir), token)


def forget_refresh_token(data_dir: Path) -> None:
    for path in (refresh_token_path(data_dir), data_dir / SESSION_FILE):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def load_session(data_dir: Path) -> AuthSession | None:
    """The last session (who this screen is, for an offline start), with the newest saved refresh token."""
    token = load_refresh_token(data_dir)
    try:
        text = (data_dir / SESSION_FILE).read_text(encoding="utf-8")
        session = AuthSession.model_validate_json(text)
    except (FileNotFoundError, ValueError):
        return None
    return None if token is None else session.model_copy(update={"refresh_token": token})


def credential_path(data_dir: Path) -> Path:
    return data_dir / CREDENTIAL_FILE


def save_credential(data_dir: Path, email: str, password: str) -> None:
    """The device account's password, with the email it is for, readable by this user only (0600)."""
    _write_private(credential_path(data_dir), json.dumps({"email": email, "password": password}))


def load_credential(data_dir: Path, email: str) -> str | None:
    """The stored password for `email`; None if there is none, or it belongs to another account."""
    try:
        stored = json.loads(credential_path(data_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(stored, dict):
        return None
    stored_email, password = stored.get("email"), stored.get("password")
    if not isinstance(stored_email, str) or not isinstance(password, str) or not password:
        return None
    return password if stored_email.strip().lower() == email.strip().lower() else None


def forget_credential(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        credential_path(data_dir).unlink()


def _remember(data_dir: Path, session: AuthSession) -> None:
    save_refresh_token(data_dir, session.refresh_token)
    _write_private(data_dir / SESSION_FILE, session.model_dump_json())


def _write_private(path: Path, text: str) -> None:
    write_atomically(path, text)  # mkstemp creates the file 0600, and the rename keeps that
