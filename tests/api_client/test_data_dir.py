"""The data directory a screen and its companion share, and the JWT secret kept in it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from api_client.data_dir import data_dir, persisted_secret


def test_kds_data_dir_names_the_directory_and_it_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path / "kitchen" / "data"))
    assert data_dir() == tmp_path / "kitchen" / "data" and (tmp_path / "kitchen" / "data").is_dir()


def test_the_secret_is_made_once_kept_private_and_read_back(tmp_path: Path) -> None:
    secret = persisted_secret(tmp_path)
    assert len(secret) >= 32
    assert stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode) == 0o600
    assert persisted_secret(tmp_path) == secret
