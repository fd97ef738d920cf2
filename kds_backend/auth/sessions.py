"""Device sessions as GoTrue issues them: a short-lived access JWT plus a rotating refresh token.

Refresh tokens are opaque random strings, stored only as SHA-256 hashes. Each refresh marks the token
used and records its successor. A device whose answer was lost (a crash between our commit and its
write, a Wi-Fi blip, a kitchen screen that was then off the network for an hour) presents the used token
again: as long as the successor has never been used, it gets the same successor back, idempotently, within
`Settings.refresh_reuse_window_s` (`KDS_REFRESH_REUSE_WINDOW`, default 24 h). GoTrue's own reuse interval
is 10 s, after which a Supabase screen has to sign in again with its stored password; the companion does
not make a screen depend on that. Reuse once the successor *was* used (the device did receive it, so this
copy leaked or the client is confused), or after the window, is refused and, as GoTrue does, the token's
descendants are revoked.

The successor is derived from its parent with a keyed HMAC, so the server can hand it out again while
storing nothing but hashes: the database alone never yields a usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from api_client.models import AppMetadata, AuthSession, AuthUser, DevicePublic

from ..db.database import Database
from ..db.tables import refresh_tokens
from ..settings import Settings
from .accounts import find_account, get_device, normalise_email
from .hashing import HASHING
from .passwords import verify_password, verify_unknown_account
from .tokens import issue_token

GOTRUE_REUSE_INTERVAL_S = 10.0
"""GoTrue's default `refresh_token_reuse_interval`; `KDS_REFRESH_REUSE_WINDOW=10` makes the companion as strict."""
USED_TOKEN_RETENTION = timedelta(days=7)
"""Used tokens are kept this long (at least the reuse window) so that late reuse is recognised (and its family
revoked), then pruned."""
MAX_PASSWORD_CHARS = 200
REFRESH_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")


class Granted(NamedTuple):
    session: AuthSession
    device: DevicePublic


class AuthFailure(Exception):
    """A refused grant, with GoTrue's OAuth error (`invalid_grant`) and its newer `error_code`."""

    def __init__(self, error: str, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.error_code = error_code
        self.message = message


def invalid_credentials() -> AuthFailure:
    # One message for an unknown email and a wrong password, so neither reveals which accounts exist.
    return AuthFailure("invalid_grant", "invalid_credentials", "Invalid login credentials")


def refresh_token_not_found() -> AuthFailure:
    return AuthFailure("invalid_grant", "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")


def refresh_token_already_used() -> AuthFailure:
    return AuthFailure("invalid_grant", "refresh_token_already_used", "Invalid Refresh Token: Already Used")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def _successor(secret: str, token: str) -> str:
    key = hashlib.sha256(b"kds refresh-token successor\0" + secret.encode()).digest()
    digest = hmac.new(key, token.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _when(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def auth_user(device: DevicePublic) -> AuthUser:
    meta = AppMetadata(restaurant_id=device.restaurant_id, device_role=device.role, stations=list(device.stations))
    return AuthUser(id=device.id, email=device.email, app_metadata=meta)


def build_session(
    settings: Settings, device: DevicePublic, refresh_token: str, now: float, session_id: str | None = None
) -> AuthSession:
    issued = int(now)
    ttl = settings.access_token_ttl_s
    access = issue_token(
        settings.jwt_secret,
        restaurant_id=device.restaurant_id,
        device_role=device.role,
        subject=device.id,
        stations=list(device.stations),
        ttl_s=ttl,
        email=device.email,
        now=issued,
        session_id=session_id,
    )
    return AuthSession(
        access_token=access,
        expires_in=ttl,
        expires_at=issued + ttl,
        refresh_token=refresh_token,
        user=auth_user(device),
    )


# ---------------------------------------------------------------- password grant


def _store_new(
    conn: sa.Connection, device_id: str, token: str, session_id: str, when: datetime
) -> DevicePublic | None:
    device = get_device(conn, device_id)
    if device is None:  # deleted between the password check and now
        return None
    row = {"token_hash": token_hash(token), "device_id": device_id, "issued_at": when, "session_id": session_id}
    conn.execute(refresh_tokens.insert(), row)
    return device


async def sign_in(db: Database, settings: Settings, email: str, password: str, now: float) -> Granted:
    """A new session for the device signing in with `email` and `password`; `AuthFailure` otherwise."""
    email = normalise_email(email)
    if not EMAIL_SHAPE.fullmatch(email) or not email.isprintable() or len(email) > 200:
        raise invalid_credentials()
    if len(password) > MAX_PASSWORD_CHARS:  # no account can have one; don't spend scrypt on megabytes
        raise invalid_credentials()
    account = await db.aread(lambda c: find_account(c, email))
    # scrypt is CPU-bound: off the event loop, outside any write transaction, on its own bounded pool
    # (HashingBusy, a 429, when a spray has filled it).
    if account is None:
        await HASHING.run(verify_unknown_account, password)
        raise invalid_credentials()
    if not await HASHING.run(verify_password, password, account.password_hash):
        raise invalid_credentials()
    token, session_id = new_refresh_token(), str(uuid.uuid4())
    device = await db.awrite(lambda w: _store_new(w.conn, account.public.id, token, session_id, _when(now)))
    if device is None:
        raise invalid_credentials()
    return Granted(build_session(settings, device, token, now, session_id), device)


# ---------------------------------------------------------------- refresh grant


def _token_row(conn: sa.Connection, hashed: str) -> Any:
    return conn.execute(sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == hashed)).first()


def _revoke_descendants(conn: sa.Connection, row: Any) -> None:
    hashed = row.successor_hash
    while hashed is not None:
        child = _token_row(conn, hashed)
        conn.execute(refresh_tokens.delete().where(refresh_tokens.c.token_hash == hashed))
        hashed = child.successor_hash if child is not None else None


def _prune(conn: sa.Connection, device_id: str, when: datetime, window_s: float) -> None:
    retention = max(USED_TOKEN_RETENTION, timedelta(seconds=window_s))
    conn.execute(
        refresh_tokens.delete().where(
            refresh_tokens.c.device_id == device_id,
            refresh_tokens.c.used_at.is_not(None),
            refresh_tokens.c.used_at < when - retention,
        )
    )


def _rotate(
    conn: sa.Connection, secret: str, token: str, when: datetime, window_s: float
) -> tuple[DevicePublic, str, str | None] | AuthFailure:
    """Exchange `token` for its successor. A failure is returned, not raised, so a revocation commits.

    A used token comes back when its answer was lost: within `window_s` of its use, and only while that
    successor was never used itself, the same successor is handed out again (idempotent). Anything else is
    reuse: refused, and the token's descendants are revoked.

    Runs in a serialised write transaction (`Database.write`), so two concurrent refreshes of one token
    cannot both rotate it: the second sees it used and gets the same successor.
    """
    row = _token_row(conn, token_hash(token))
    if row is None:
        return refresh_token_not_found()
    successor = _successor(secret, token)
    successor_hash = token_hash(successor)
    if row.used_at is None:
        conn.execute(
            refresh_tokens.update().where(refresh_tokens.c.token_hash == row.token_hash),
            {"used_at": when, "successor_hash": successor_hash},
        )
        conn.execute(
            refresh_tokens.insert(),
            {"token_hash": successor_hash, "device_id": row.device_id, "issued_at": when, "session_id": row.session_id},
        )
        _prune(conn, row.device_id, when, window_s)
    else:
        child = _token_row(conn, successor_hash) if row.successor_hash == successor_hash else None
        in_interval = (when - row.used_at).total_seconds() <= window_s
        # Only an unused successor is handed out again: if it was used, the device did receive it.
        if not (in_interval and child is not None and child.used_at is None):
            _revoke_descendants(conn, row)
            return refresh_token_already_used()
    device = get_device(conn, row.device_id)
    if device is None:
        return refresh_token_not_found()
    return device, successor, row.session_id


async def refresh(db: Database, settings: Settings, token: str, now: float) -> Granted:
    """A new session for a refresh token (rotating it); `AuthFailure` for an unknown or spent token."""
    if not REFRESH_TOKEN_SHAPE.fullmatch(token):
        raise refresh_token_not_found()
    window = settings.refresh_reuse_window_s
    outcome = await db.awrite(lambda w: _rotate(w.conn, settings.jwt_secret, token, _when(now), window))
    if isinstance(outcome, AuthFailure):
        raise outcome
    device, issued, session_id = outcome
    return Granted(build_session(settings, device, issued, now, session_id), device)


# ---------------------------------------------------------------- sign-out

LOGOUT_SCOPES = ("global", "local", "others")


async def sign_out(db: Database, device_id: str, session_id: str | None, scope: str) -> int:
    """Revoke the device's refresh tokens as GoTrue's `/logout` does: every session (`global`), the session
    `session_id` names (`local`), or every other one (`others`). Returns how many tokens went. The access
    tokens already issued stay valid until they expire, as on Supabase."""
    if scope not in LOGOUT_SCOPES:
        raise ValueError(scope)
    mine = refresh_tokens.c.device_id == device_id
    if scope == "global":
        query = refresh_tokens.delete().where(mine)
    elif session_id is None:
        return 0  # a token from before sessions had ids names no session: nothing is this one, nor "the others"
    elif scope == "local":
        query = refresh_tokens.delete().where(mine, refresh_tokens.c.session_id == session_id)
    else:
        query = refresh_tokens.delete().where(
            mine, sa.or_(refresh_tokens.c.session_id.is_(None), refresh_tokens.c.session_id != session_id)
        )
    return await db.awrite(lambda w: w.conn.execute(query).rowcount)
