"""Device passwords, hashed with the standard library's scrypt.

A hash is self-describing (`scrypt$n$r$p$salt$key`), so the cost can be raised later without breaking
stored hashes: each is verified with the parameters it was made with.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

SCHEME = "scrypt"
SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    n: int
    r: int
    p: int

    def valid(self) -> bool:
        # Bounds keep a tampered or corrupt hash from costing gigabytes or minutes to verify.
        return 2 <= self.n <= 2**20 and self.n & (self.n - 1) == 0 and 1 <= self.r <= 32 and 1 <= self.p <= 16

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * r * n bytes (plus a little for p blocks); hashlib's default cap is 32 MiB.
        return 128 * self.r * (self.n + self.p + 2) + 1024 * 1024


DEFAULT_PARAMS = ScryptParams(n=2**14, r=8, p=5)
"""One of OWASP's equivalent scrypt settings; 16 MiB per hash suits the small PCs behind kitchen screens."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    # surrogatepass: a JSON string may carry a lone surrogate; it must fail to match, not crash.
    secret = password.encode("utf-8", "surrogatepass")
    return hashlib.scrypt(secret, salt=salt, n=params.n, r=params.r, p=params.p, maxmem=params.maxmem, dklen=KEY_BYTES)


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    """A new hash of `password` with a random salt, e.g. `scrypt$16384$8$5$<salt>$<key>`."""
    params = params or DEFAULT_PARAMS
    if not params.valid():
        raise ValueError(f"invalid scrypt parameters: {params}")
    salt = os.urandom(SALT_BYTES)
    key = _derive(password, salt, params)
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def _parse(encoded: str) -> tuple[ScryptParams, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        params = ScryptParams(int(parts[1]), int(parts[2]), int(parts[3]))
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None
    if not params.valid() or not salt or len(key) != KEY_BYTES:
        return None
    return params, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches `encoded`. A malformed hash never matches (and never raises)."""
    parsed = _parse(encoded)
    if parsed is None:
        return False
    params, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, params), expected)


@functools.cache
def _dummy_hash(params: ScryptParams) -> str:
    return hash_password("not-a-password: equalises timing for unknown accounts", params)


def verify_unknown_account(password: str) -> bool:
    """Burn the same time as a real check, so response timing does not reveal which emails exist."""
    verify_password(password, _dummy_hash(DEFAULT_PARAMS))
    return False
