"""The per-user data directory a screen and its companion share, and the JWT secret kept in it.

Shared because both sides must agree on it: the screen keeps its store and logs there, the companion its default
database and secret, and `kds-pos-sim` reads that secret to mint a POS token for a companion on this machine.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "JWT_SECRET_FILE", "data_dir", "persisted_secret"]

APP_NAME = "kds"
JWT_SECRET_FILE = "jwt-secret"


def data_dir() -> Path:
    """Per-user data directory (`KDS_DATA_DIR` overrides it)."""
    override = os.environ.get("KDS_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def persisted_secret(directory: Path) -> str:
    """The embedded default's JWT secret: generated once, kept beside its database (mode 0600)."""
    path = directory / JWT_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret
