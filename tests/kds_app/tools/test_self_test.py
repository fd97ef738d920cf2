"""`kds --self-test`: the whole run from source, and the step/report logic on its own (its failure paths)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kds_app.tools.self_test import STEP_TIMEOUTS_S, Report, StepFailed, StepResult, run_step
from tests.packaging.output_check import clean_env, report_steps, unexpected_stderr

ROOT = Path(__file__).resolve().parents[3]


def _run(coro: Callable[[], Awaitable[Any]]) -> Any:
    # A plain loop whatever policy qasync may have installed in this process.
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(coro())


@pytest.mark.slow
def test_self_test_from_source_passes(tmp_path: Path) -> None:
    env = clean_env(str(tmp_path), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "kds_app", "--self-test"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    expected = [*STEP_TIMEOUTS_S, "screen stopped", "companion stopped"]
    assert report_steps(result.stdout) == dict.fromkeys(expected, "ok"), result.stdout
    assert result.stdout.splitlines()[-1] == "self-test passed"
    assert unexpected_stderr(result.stderr) == [], result.stderr


def test_a_passing_step_is_recorded_with_its_detail() -> None:
    report = Report()

    async def step() -> str:
        return "fine"

    assert _run(lambda: run_step(report, "first", step, 1.0))
    assert report.steps == [StepResult("first", True, report.steps[0].seconds, "fine")]
    assert report.ok and report.failure is None
    assert report.render().splitlines()[-1] == "self-test passed"


def test_a_failed_check_fails_the_step_with_its_message() -> None:
    report = Report()

    async def step() -> str:
        raise StepFailed("the ticket is still on the screen after the second tap")

    assert not _run(lambda: run_step(report, "ticket bumped on the screen", step, 1.0))
    assert not report.ok
    assert report.render().splitlines()[-1] == (
        "self-test FAILED: ticket bumped on the screen: the ticket is still on the screen after the second tap"
    )


def test_an_unexpected_error_fails_the_step_with_its_type_and_is_not_raised() -> None:
    report = Report()

    async def step() -> str:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    assert not _run(lambda: run_step(report, "order posted", step, 1.0))
    assert report.failure is not None
    assert report.failure.detail == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert "  FAILED order posted (" in report.render()


def test_a_step_that_never_finishes_times_out() -> None:
    report = Report()

    async def step() -> str:
        await asyncio.Event().wait()  # e.g. the bump never syncs
        return "unreachable"

    assert not _run(lambda: run_step(report, "bump synced to the server", step, 0.05))
    assert report.failure is not None and report.failure.detail == "timed out after 0.05 s"
    assert report.steps[0].seconds < 1.0


def test_the_report_fails_when_any_step_failed_or_none_ran() -> None:
    assert not Report().ok
    assert Report().render().splitlines()[-1] == "self-test FAILED: no step ran"
    mixed = Report([StepResult("a", True, 0.1), StepResult("b", False, 0.2, "boom"), StepResult("c", True, 0.1)])
    assert not mixed.ok
    assert mixed.render().splitlines()[-1] == "self-test FAILED: b: boom"


def test_a_timeout_says_what_the_step_was_waiting_for() -> None:
    report = Report()

    async def step() -> str:
        await asyncio.Event().wait()
        return "unreachable"

    def waiting_for() -> str:
        return "the server's items to be done; they are new, new"

    assert not _run(lambda: run_step(report, "bump synced to the server", step, 0.05, waiting_for=waiting_for))
    assert report.failure is not None
    assert report.failure.detail == "timed out after 0.05 s: the server's items to be done; they are new, new"
