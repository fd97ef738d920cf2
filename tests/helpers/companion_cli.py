"""`kds-backend` run as an installer runs it: a subprocess with the data dir and secret in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.tokens import JWT_SECRET

REPO = Path(__file__).resolve().parents[2]


def run_cli(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env |= {"KDS_DATA_DIR": str(data_dir), "KDS_JWT_SECRET": JWT_SECRET}
    if not database_url.startswith("sqlite"):
        env["KDS_DATABASE_URL"] = database_url
    # SQLite: no URL at all, so the default (companion.db in KDS_DATA_DIR) is what is exercised.
    assert not database_url.startswith("sqlite") or database_url == f"sqlite:///{data_dir / 'companion.db'}"
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
