"""A storm of failed attempts is told in a few lines: the first, one a minute, and the recovery."""

from __future__ import annotations

import logging

import pytest

from sync.retry_log import RetryLog


def test_failures_are_summarised_and_the_recovery_is_told(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    retries = RetryLog(logging.getLogger("test.retry"), "upload", "upload_retry", every_s=60, clock=lambda: now[0])
    retries.succeeded()  # nothing failed: nothing to say
    with caplog.at_level(logging.INFO, logger="test.retry"):
        for _ in range(100):  # a failure every 1.5 s for 150 s
            retries.failed("ConnectError: refused", queued=3)
            now[0] += 1.5
        retries.succeeded(queued=0)
    told = [(r.levelname, getattr(r, "outcome", None), getattr(r, "tries", None)) for r in caplog.records]
    assert told == [
        ("WARNING", "failing", 1),
        ("WARNING", "still_failing", 41),  # 60 s after the first
        ("WARNING", "still_failing", 81),
        ("INFO", "recovered", 100),
    ]
    last = caplog.records[-1]
    assert last.getMessage() == "upload recovered after 100 tries / 150.0 s (first error: ConnectError: refused)"
    assert (last.failing_s, last.queued, last.event) == (150.0, 0, "upload_retry")  # type: ignore[attr-defined]
    assert caplog.records[0].queued == 3  # type: ignore[attr-defined]
    assert retries.tries == 0 and not retries.failing
