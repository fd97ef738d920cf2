"""The companion's configuration, from the environment (or from arguments in tests and the CLI)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "kds"


def data_dir() -> Path:
    """Per-user data directory (`KDS_DATA_DIR` overrides it)."""
    override = os.environ.get("KDS_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def persisted_secret(directory: Path) -> str:
    """The embedded default's JWT secret: generated once, kept beside its database (mode 0600)."""
    path = directory / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret


@dataclass(frozen=True)
class Settings:
    database_url: str
    jwt_secret: str
    access_token_ttl_s: int = 3600
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    cors_origins: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        """Settings from `KDS_*` variables; with none set, the embedded default in the data directory."""
        directory = data_dir()
        url = database_url or os.environ.get("KDS_DATABASE_URL") or f"sqlite:///{directory / 'companion.db'}"
        secret = os.environ.get("KDS_JWT_SECRET") or persisted_secret(directory)
        if len(secret) < 32:
            raise ValueError("KDS_JWT_SECRET must be at least 32 characters")
        return cls(
            database_url=url,
            jwt_secret=secret,
            access_token_ttl_s=int(os.environ.get("KDS_ACCESS_TOKEN_TTL", "3600")),
            rate_limit_per_s=float(os.environ.get("KDS_RATE_LIMIT", "200")),
            rate_limit_burst=int(os.environ.get("KDS_RATE_BURST", "400")),
        )
