"""The PIN that locks SETTINGS: kept in the config as a salted scrypt hash, never as the digits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from ..media.language import translate

__all__ = ["PIN_LENGTH", "PinError", "check_new_pin", "hash_pin", "verify_pin"]

PIN_LENGTH = (4, 8)
_N, _R, _P = 2**14, 8, 1  # ~50 ms here: fine once per opening, slow for a guesser with the file


class PinError(ValueError):
    """A PIN that cannot be set; the message is for the person at the screen."""


def check_new_pin(pin: str) -> str:
    low, high = PIN_LENGTH
    if not (pin.isdigit() and low <= len(pin) <= high):
        raise PinError(translate("Settings", "The PIN must be {low} to {high} digits").format(low=low, high=high))
    return pin


def hash_pin(pin: str) -> str:
    """`scrypt$<salt>$<hash>` (base64) for `pin`, which must be 4-8 digits."""
    check_new_pin(pin)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=len(digest))
    return hmac.compare_digest(candidate, digest)


def is_pin_hash(value: str) -> bool:
    parts = value.split("$")
    return len(parts) == 3 and parts[0] == "scrypt" and all(parts[1:])
