"""Pinned npm packages for tests that run Supabase's JavaScript clients (Node, or a browser)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def npm_installed(js_dir: Path) -> Path:
    """`npm ci` in `js_dir` from its committed lock file, once until the lock file changes; the path of `node`.

    Skips where Node is missing, but fails on CI, which must run these tests."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are required for the Supabase JavaScript client tests")
        pytest.skip("node/npm not installed")
    marker = js_dir / "node_modules" / ".package-lock.json"
    # One install at a time: parallel workers (pytest-xdist), or another run in this tree, would otherwise
    # each run `npm ci`, which deletes node_modules under a subscriber another worker is running.
    with (js_dir / "package-lock.json").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.stat().st_mtime < (js_dir / "package-lock.json").stat().st_mtime:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=js_dir,
                check=True,
                timeout=300,
                stdout=subprocess.DEVNULL,
            )
    return Path(node)
