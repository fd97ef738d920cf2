"""The retry policy without sockets: what each answer or error does to a batch."""

from __future__ import annotations

import random

import httpx
import pytest

from api_client.backoff import Backoff
from api_client.errors import ApiError, AuthError, InvalidResponse, RateLimited, ServerError, TransportFailure
from api_client.models import IntentResult, IntentStatus
from sync.engine.upload_policy import MAX_RETRY_AFTER_S, Confirm, Reject, decide
from tests.sync.store.support import intent, order


def backoff() -> Backoff:
    return Backoff(1.0, 8.0, rng=random.Random(7))


def batch(n: int = 3) -> list:
    o = order()
    return [intent("bump_ticket", o, seq=i + 1) for i in range(n)]


def transport_failure() -> TransportFailure:
    return TransportFailure("connect refused", cause=httpx.ConnectError("refused"))


def test_answers_settle_every_entry_in_order_and_reset_the_backoff() -> None:
    intents = batch(5)
    o = order()
    results = [
        IntentResult(id=intents[0].id, status=IntentStatus.applied, order=o),
        IntentResult(id=intents[1].id, status=IntentStatus.duplicate, original_status=IntentStatus.applied, order=o),
        IntentResult(id=intents[2].id, status=IntentStatus.rejected, reason="Burger was voided", order=o),
        IntentResult(
            id=intents[3].id, status=IntentStatus.duplicate, original_status=IntentStatus.rejected, reason="was voided"
        ),
        IntentResult(id=intents[4].id, status=IntentStatus.duplicate, reason="device sequence 5 was already used"),
    ]
    b = backoff()
    b.attempt = 4
    decision = decide(intents, results, b)
    assert decision.retry is None and b.attempt == 0
    assert decision.settle == [
        Confirm(intents[0].id, o),
        Confirm(intents[1].id, o),
        Reject(intents[2].id, "Burger was voided", o),
        Reject(intents[3].id, "was voided"),
        Reject(intents[4].id, "device sequence 5 was already used"),
    ]


def test_answers_for_other_intents_settle_nothing() -> None:
    intents = batch(2)
    results = [IntentResult(id=intents[1].id, status=IntentStatus.applied)] * 2
    decision = decide(intents, results, backoff())
    assert decision.settle == [] and decision.retry is not None and "different intents" in decision.retry.error


@pytest.mark.parametrize(
    "error",
    [
        transport_failure(),
        InvalidResponse("not JSON", status=200),
        TimeoutError(),
        ServerError(503, "HTTP503", "database down"),
        ApiError(403, "42501", "intents carry another device's id"),
        ApiError(404, "PGRST202", "no such function"),
        RuntimeError("a bug"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status", "")),
)
def test_transient_and_setup_failures_block_the_whole_batch_with_growing_capped_backoff(error: Exception) -> None:
    b = backoff()
    delays = []
    for _ in range(8):
        ceiling = b.ceiling()
        decision = decide(batch(), error, b)
        assert decision.settle == [], "a failure must never settle (or skip) any entry"
        assert decision.retry is not None and not decision.retry.refresh_token and decision.retry.batch_limit is None
        assert 0.0 <= decision.retry.delay_s <= ceiling
        delays.append(decision.retry.delay_s)
    assert b.ceiling() == 8.0 and max(delays) <= 8.0
    assert len(set(delays)) > 1, "jittered"


@pytest.mark.parametrize("cls", [RateLimited, ServerError])
def test_retry_after_is_honoured_but_bounded(cls: type[RateLimited] | type[ServerError]) -> None:
    decision = decide(batch(), cls(429, "HTTP429", "slow down", retry_after=20.0), backoff())
    assert decision.retry is not None and decision.retry.delay_s == 20.0 and decision.settle == []
    decision = decide(batch(), cls(429, "HTTP429", "slow down", retry_after=86400.0), backoff())
    assert decision.retry is not None and decision.retry.delay_s == MAX_RETRY_AFTER_S
    decision = decide(batch(), cls(429, "HTTP429", "slow down"), backoff())
    assert decision.retry is not None and decision.retry.delay_s <= 1.0


def test_auth_error_refreshes_the_token_then_retries() -> None:
    decision = decide(batch(), AuthError(401, "PGRST301", "JWT expired"), backoff())
    assert decision.settle == [] and decision.retry is not None and decision.retry.refresh_token


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_batch_is_narrowed_to_its_first_entry_which_alone_is_rejected(status: int) -> None:
    intents = batch(3)
    refused = ApiError(status, "PGRST102", "invalid body")
    decision = decide(intents, refused, backoff())
    assert decision.settle == []
    assert decision.retry is not None and decision.retry.batch_limit == 1 and decision.retry.delay_s == 0.0
    decision = decide(intents[:1], refused, backoff())
    assert decision.retry is None
    assert decision.settle == [Reject(intents[0].id, "The server refused this action: invalid body")]
