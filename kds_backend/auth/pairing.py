"""Pairing a screen with a short code instead of a typed 170-character key.

`kds-backend pair --restaurant R --station grill` stores a one-time code (8 letters and digits, shown as
`ABCD-EFGH`, valid for a few minutes). A screen sends it to `POST /api/v1/pair` and gets back what it needs to
connect: the URL, the anon key, and the sign-in of a device account made for it at that moment (an unused code
makes no account). Only the code's SHA-256 is stored; a code is spent by the exchange that uses it, in the same
transaction that creates the account, so two screens racing with one code get one account between them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..db.tables import devices, pairing_codes
from ..routing import DEFAULT_ROUTES, FALLBACK_STATION, restaurant_routes

__all__ = [
    "CODE_LENGTH",
    "PairingRefused",
    "PendingPairing",
    "check_code",
    "create_code",
    "format_code",
    "known_stations",
    "normalise_code",
    "pairing_codes",
    "redeem_code",
]

# No 0/O, 1/I/L: read off one screen and typed on another, in a kitchen.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31**8 ≈ 8.5e11: with the exchange rate-limited and codes living minutes, not guessable


class PairingRefused(Exception):
    """A code that cannot be exchanged; `message` is for the person at the screen."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PendingPairing:
    restaurant_id: str
    role: str
    stations: list[str]
    name: str


def normalise_code(text: str) -> str:
    """What was typed or pasted, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def create_code(
    conn: sa.Connection,
    restaurant_id: str,
    *,
    role: str,
    stations: list[str],
    name: str,
    now: datetime,
    valid_for: timedelta,
) -> str:
    """A new code (unformatted); the expired and spent codes are dropped on the way."""
    gone = (pairing_codes.c.expires_at <= now) | pairing_codes.c.used_at.isnot(None)
    conn.execute(pairing_codes.delete().where(gone))
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    conn.execute(
        pairing_codes.insert(),
        {
            "code_hash": _hash(code),
            "restaurant_id": restaurant_id,
            "role": role,
            "stations": stations,
            "name": name,
            "created_at": now,
            "expires_at": now + valid_for,
            "used_at": None,
        },
    )
    return code


def check_code(conn: sa.Connection, code: str, now: datetime) -> PendingPairing:
    """The pairing `code` stands for, if it can still be used; `PairingRefused` saying why not."""
    if len(normalise_code(code)) != CODE_LENGTH:
        raise PairingRefused(400, f"A pairing code has {CODE_LENGTH} letters and digits, like ABCD-EFGH")
    row = conn.execute(sa.select(pairing_codes).where(pairing_codes.c.code_hash == _hash(code))).mappings().first()
    if row is None:
        raise PairingRefused(404, "No such pairing code: check it, or make a new one on the hub (kds-backend pair)")
    if row["used_at"] is not None:
        raise PairingRefused(410, "This pairing code was already used: make a new one on the hub (kds-backend pair)")
    if row["expires_at"] <= now:
        raise PairingRefused(410, "This pairing code has expired: make a new one on the hub (kds-backend pair)")
    return PendingPairing(row["restaurant_id"], row["role"], list(row["stations"]), row["name"])


def redeem_code(conn: sa.Connection, code: str, now: datetime) -> PendingPairing:
    """Spend `code` (in the caller's write transaction): only one exchange ever gets past this."""
    pending = check_code(conn, code, now)
    spent = conn.execute(
        pairing_codes.update()
        .where(pairing_codes.c.code_hash == _hash(code), pairing_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise PairingRefused(410, "This pairing code was already used: make a new one on the hub (kds-backend pair)")
    return pending


def known_stations(conn: sa.Connection, restaurant_id: str) -> list[str]:
    """Every station the restaurant's tickets can go to or a screen of it shows: its routes' and the default
    routes' stations, the fallback, and its device accounts' stations. Sorted."""
    found = set(restaurant_routes(conn, restaurant_id).values()) | set(DEFAULT_ROUTES.values()) | {FALLBACK_STATION}
    rows = conn.execute(sa.select(devices.c.stations).where(devices.c.restaurant_id == restaurant_id))
    for row in rows:
        stations: list[str] = row[0] or []  # a JSON list of station names
        found.update(stations)
    return sorted(found)
