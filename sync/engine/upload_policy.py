"""What to do after one batch attempt: sans-I/O, given the batch and what `apply_intents` returned or raised.

    applied, duplicate of an applied one      -> Confirm: drop from the outbox, store the server's order
    rejected, duplicate of a rejected one,
    a reused device sequence                  -> Reject: keep with the reason (the overlay stops applying it)
    no answer, 5xx, 429, bad answer, timeout  -> Retry the same batch after capped jittered backoff
                                                 (at least Retry-After when the server gave one)
    AuthError                                 -> refresh the token, then Retry
    400/422 for a batch                       -> Retry the first entry alone, to find the one the server refuses;
    400/422 for a single entry                -> Reject it (resending the same bytes gets the same answer)
    403 and other 4xx                         -> Retry with backoff: a setup problem, queued intents must wait

Entries are settled strictly from the front: a Retry settles nothing, so nothing is ever skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from api_client.backoff import Backoff
from api_client.errors import ApiError, AuthError, ClientError, RateLimited, ServerError
from api_client.models import Intent, IntentResult, IntentStatus, MenuAvailabilityPublic, OrderWithItems

MAX_RETRY_AFTER_S = 600.0
"""A Retry-After beyond this is treated as this: a misconfigured proxy must not park a kitchen for a day."""


@dataclass(frozen=True)
class Confirm:
    intent_id: UUID
    order: OrderWithItems | None = None
    menu_item: MenuAvailabilityPublic | None = None


@dataclass(frozen=True)
class Reject:
    intent_id: UUID
    reason: str
    order: OrderWithItems | None = None


@dataclass(frozen=True)
class Retry:
    delay_s: float
    error: str
    refresh_token: bool = False
    batch_limit: int | None = None
    """Send at most this many entries next time (1 isolates an entry the server refuses outright)."""


@dataclass(frozen=True)
class Decision:
    settle: list[Confirm | Reject] = field(default_factory=list)
    retry: Retry | None = None


def decide(batch: Sequence[Intent], outcome: Sequence[IntentResult] | BaseException, backoff: Backoff) -> Decision:
    if isinstance(outcome, BaseException):
        return _failed(batch, outcome, backoff)
    if [r.id for r in outcome] != [i.id for i in batch]:
        # Pairing results by position with other intents would confirm the wrong ones.
        return Decision(retry=Retry(backoff.next_delay(), "the server answered for different intents"))
    backoff.reset()
    return Decision(settle=[_settled(r) for r in outcome])


def _settled(result: IntentResult) -> Confirm | Reject:
    if result.status is IntentStatus.applied:
        return Confirm(result.id, result.order, result.menu_item)
    if result.status is IntentStatus.duplicate and result.original_status is IntentStatus.applied:
        # Applied by an earlier attempt whose answer was lost: done, exactly once.
        return Confirm(result.id, result.order, result.menu_item)
    if result.status is IntentStatus.duplicate and result.original_status is None:
        # A new id with a sequence number the server already used: it was never applied, and never will be.
        return Reject(result.id, result.reason or "The server already used this action's sequence number")
    return Reject(result.id, result.reason or "The server refused this action", result.order)


def _failed(batch: Sequence[Intent], exc: BaseException, backoff: Backoff) -> Decision:
    error = _describe(exc)
    if isinstance(exc, AuthError):
        return Decision(retry=Retry(backoff.next_delay(), error, refresh_token=True))
    if isinstance(exc, RateLimited | ServerError):
        delay = backoff.next_delay()
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, MAX_RETRY_AFTER_S))
        return Decision(retry=Retry(delay, error))
    if isinstance(exc, ApiError) and exc.status in (400, 422) and batch:
        if len(batch) > 1:
            return Decision(retry=Retry(0.0, error, batch_limit=1))
        return Decision(settle=[Reject(batch[0].id, f"The server refused this action: {exc.message}")])
    # Transport failures, timeouts, answers off the contract, other 4xx, and our own bugs: wait and resend.
    return Decision(retry=Retry(backoff.next_delay(), error))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimeoutError):
        return "TimeoutError: the server did not answer in time"
    return f"{type(exc).__name__}: {exc}"
