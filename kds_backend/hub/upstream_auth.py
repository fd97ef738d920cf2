"""The hub's account on upstream: a static device token, or an admin device's email and password whose session is
kept beside the mirror's store, so the hub can start again while the internet is down."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import jwt

from api_client.client import KdsApiClient
from api_client.errors import ApiError, ClientError
from api_client.models import AppMetadata, AuthSession, DeviceRole
from api_client.token_provider import SessionTokenProvider, StaticTokenProvider, TokenProvider, refused

from .settings import UpstreamSettings

log = logging.getLogger(__name__)


class UpstreamAccountError(RuntimeError):
    """The hub cannot act for its restaurant upstream: said in words, at start-up."""


@dataclass
class UpstreamAccount:
    tokens: TokenProvider
    restaurant_id: str
    device_id: str
    auth_client: KdsApiClient | None = None
    """Kept open while the hub runs: the session provider refreshes through it."""

    async def aclose(self) -> None:
        if self.auth_client is not None:
            await self.auth_client.aclose()


def session_path(settings: UpstreamSettings) -> Path:
    return settings.store_path.with_name(settings.store_path.name + ".session.json")


async def sign_in(settings: UpstreamSettings) -> UpstreamAccount:
    if settings.token is not None:
        claims = jwt.decode(settings.token, options={"verify_signature": False})
        meta = AppMetadata.model_validate(claims.get("app_metadata") or {})
        return _account(StaticTokenProvider(settings.token), meta, str(claims.get("sub", "")), settings)
    assert settings.email is not None and settings.password is not None
    email, password = settings.email, settings.password
    auth = KdsApiClient(settings.url, settings.anon_key)
    path = session_path(settings)
    try:
        try:
            session = await auth.sign_in(email, password)
        except ClientError as exc:
            if isinstance(exc, ApiError) and refused(exc):
                message = f"{settings.url} refused the hub's sign-in as {email}: {exc.message}"
                raise UpstreamAccountError(message) from exc
            saved = _load(path)
            if not exc.retryable or saved is None or saved.user.email != email:
                raise UpstreamAccountError(
                    f"cannot sign in to {settings.url} as {email} ({exc}); the hub needs upstream on its first "
                    "start, then starts offline on its saved sign-in"
                ) from exc
            log.warning("cannot reach %s (%s): starting on the saved sign-in", settings.url, exc)
            session = saved
        _save(path, session)
        provider = SessionTokenProvider(
            session,
            auth.refresh,
            on_session=lambda new: _save(path, new),
            reauthenticate=lambda: auth.sign_in(email, password),
        )
        return _account(provider, session.user.app_metadata, session.user.id, settings, auth)
    except BaseException:
        await auth.aclose()
        raise


def _account(
    tokens: TokenProvider,
    meta: AppMetadata,
    device_id: str,
    settings: UpstreamSettings,
    auth: KdsApiClient | None = None,
) -> UpstreamAccount:
    if meta.restaurant_id is None or not device_id:
        raise UpstreamAccountError(f"the hub's upstream account on {settings.url} is not a device of a restaurant")
    if meta.device_role is not DeviceRole.admin:
        role = meta.device_role.value if meta.device_role else "no"
        raise UpstreamAccountError(
            f"the hub's upstream account has the {role} role; it must be an admin device of {meta.restaurant_id} "
            "(it forwards every LAN screen's taps under their own device ids)"
        )
    return UpstreamAccount(tokens, meta.restaurant_id, device_id, auth)


def _load(path: Path) -> AuthSession | None:
    try:
        return AuthSession.model_validate_json(path.read_text())
    except (OSError, ValueError):
        return None


def _save(path: Path, session: AuthSession) -> None:
    """Written whole or not at all (rename), readable by the hub's user only: it holds a refresh token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(session.model_dump(mode="json")))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
