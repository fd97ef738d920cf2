"""Retries told in a few log lines, not one per attempt: a storm of failures is the same story every time.

    failing     - the first failure, with its error (WARNING)
    still       - "still failing after N tries" at most once per `every_s` (WARNING)
    recovered   - "recovered after N tries / T s" on the first success after failures (INFO)

`what` names the activity ("upload", "realtime connection"); every line carries `event=<event>` and the fields
`tries`, `failing_s` and `error`, so a support person can grep one word and read the whole outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any


class RetryLog:
    def __init__(
        self,
        log: logging.Logger,
        what: str,
        event: str,
        *,
        every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log, self.what, self.event = log, what, event
        self.every_s = every_s
        self._clock = clock
        self.tries = 0  # consecutive failures
        self._since = 0.0
        self._told_at = 0.0
        self._first_error = ""

    @property
    def failing(self) -> bool:
        return self.tries > 0

    def failed(self, error: str, **fields: Any) -> None:
        """One attempt failed; `fields` are added to the line if one is written."""
        now = self._clock()
        self.tries += 1
        if self.tries == 1:
            self._since = self._told_at = now
            self._first_error = error
            self.log.warning(
                "%s failing: %s", self.what, error,
                extra={"event": self.event, "outcome": "failing", "tries": 1, "failing_s": 0.0, "error": error,
                       **fields},
            )
        elif now - self._told_at >= self.every_s:
            self._told_at = now
            self.log.warning(
                "%s still failing after %d tries (%.0f s): %s", self.what, self.tries, now - self._since, error,
                extra={"event": self.event, "outcome": "still_failing", "tries": self.tries,
                       "failing_s": round(now - self._since, 1), "error": error, **fields},
            )
        else:
            self.log.debug("%s failed again (try %d): %s", self.what, self.tries, error)

    def succeeded(self, **fields: Any) -> None:
        """An attempt worked: says so if it ends a run of failures, and starts counting afresh."""
        if self.tries == 0:
            return
        took = self._clock() - self._since
        self.log.info(
            "%s recovered after %d tr%s / %.1f s (first error: %s)", self.what, self.tries,
            "y" if self.tries == 1 else "ies", took, self._first_error,
            extra={"event": self.event, "outcome": "recovered", "tries": self.tries, "failing_s": round(took, 1),
                   "error": self._first_error, **fields},
        )
        self.tries = 0
