"""Rules of the suite itself: what tests share lives in `tests/helpers/` (or a module's own `support.py`), so no
test module imports another (collecting one would run its tests twice under another name, and moving a test
would break its neighbours), and the benches under `bench/` import no test module and no conftest."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _is_test_module(module: str) -> bool:
    return module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")


def test_no_test_module_imports_another() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "tests").rglob("*.py")
        for module in _imported_modules(path)
        if _is_test_module(module)
    }
    assert not offenders, sorted(offenders)


def test_benches_import_no_test_module_and_no_conftest() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "bench").rglob("*.py")
        for module in _imported_modules(path)
        if _is_test_module(module) or module.rsplit(".", 1)[-1] == "conftest"
    }
    assert not offenders, sorted(offenders)


def test_the_timeout_factor_stretches_every_deadline_and_refuses_nonsense(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import pytest\n"
        "from tests.helpers.engine_live import TIMEOUT_S\n"
        "def test_default(request):\n"
        "    print('limit', request.node.get_closest_marker('timeout').args[0], 'wait', TIMEOUT_S)\n"
        "@pytest.mark.timeout(7)\n"
        "def test_own(request):\n"
        "    print('limit', request.node.get_closest_marker('timeout').args[0])\n"
    )

    def run(factor: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KDS_TEST_TIMEOUT_FACTOR": factor, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "-p", "tests.conftest", "-s", "-n", "0"]
        return subprocess.run([*command, str(probe)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    stretched = run("3")
    assert stretched.returncode == 0, stretched.stdout + stretched.stderr
    assert "limit 360.0 wait 60.0" in stretched.stdout  # the ini's 120 s and a 20 s condition wait, times 3
    assert "limit 21.0" in stretched.stdout  # a test's own limit, times 3
    refused = run("0.5")
    assert refused.returncode != 0 and "KDS_TEST_TIMEOUT_FACTOR must be a number from 1 to 100 (got '0.5')" in (
        refused.stdout + refused.stderr
    )
