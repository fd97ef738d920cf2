"""`SessionTokenProvider` when a refresh goes wrong: an unanswered refresh is retried later with the same
token, a refused one signs in again with the stored credential, and with nothing left to sign in with the
provider is signed out and stops asking the server (issue 13, defect 2).

Plain fakes for the grants here; the same paths against the real companion are in
tests/kds_app/windows/test_sign_in_recovery.py.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from api_client.errors import ApiError, AuthError, ServerError, TransportFailure
from api_client.models import AppMetadata, AuthSession, AuthUser, DeviceRole
from api_client.token_provider import SessionTokenProvider

NOW = 1_000_000.0
ALREADY_USED = ApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
BAD_PASSWORD = ApiError(400, "invalid_credentials", "Invalid login credentials")


def session(n: int, expires_at: float, user: str = "screen-1") -> AuthSession:
    who = AuthUser(id=user, email=f"{user}@kitchen.test", app_metadata=AppMetadata(restaurant_id="r1",
                                                                                  device_role=DeviceRole.kds))
    return AuthSession(
        access_token=f"access-{n}", expires_in=3600, expires_at=int(expires_at), refresh_token=f"refresh-{n}", user=who
    )


def lost() -> TransportFailure:
    return TransportFailure("POST /auth/v1/token: RemoteProtocolError", cause=httpx.RemoteProtocolError("gone"))


class Grants:
    """Scripted answers: each call pops the next outcome (an AuthSession, None or an exception to raise)."""

    def __init__(self, outcomes: list[object]) -> None:
        self.outcomes = outcomes
        self.calls: list[str | None] = []

    def _next(self, arg: str | None) -> AuthSession | None:
        self.calls.append(arg)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is None or isinstance(outcome, AuthSession)
        return outcome

    async def refresh(self, token: str) -> AuthSession:
        result = self._next(token)
        assert result is not None
        return result

    async def sign_in(self) -> AuthSession | None:
        return self._next(None)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def provider(
    refresh: Grants, sign_in: Grants | None = None, *, clock: Callable[[], float] | None = None, expires_at: float
) -> tuple[SessionTokenProvider, list[AuthSession], list[ApiError]]:
    sessions: list[AuthSession] = []
    signed_out: list[ApiError] = []
    p = SessionTokenProvider(
        session(1, expires_at),
        refresh.refresh,
        on_session=sessions.append,
        clock=clock or (lambda: NOW),
        reauthenticate=sign_in.sign_in if sign_in is not None else None,
        on_signed_out=signed_out.append,
    )
    return p, sessions, signed_out


async def test_a_refused_refresh_signs_in_again_with_the_stored_credential() -> None:
    refresh = Grants([ALREADY_USED])
    sign_in = Grants([session(7, NOW + 3600)])
    p, sessions, signed_out = provider(refresh, sign_in, expires_at=NOW - 1)
    assert await p.get_token() == "access-7"
    assert refresh.calls == ["refresh-1"] and sign_in.calls == [None]
    assert [s.refresh_token for s in sessions] == ["refresh-7"]  # persisted like any new session
    assert p.sign_in_needed is None and signed_out == []


async def test_with_nothing_to_sign_in_with_it_is_signed_out_and_stops_asking_the_server() -> None:
    refresh = Grants([ALREADY_USED])
    sign_in = Grants([None])  # no stored credential
    p, sessions, signed_out = provider(refresh, sign_in, expires_at=NOW - 1)
    with pytest.raises(AuthError) as caught:
        await p.get_token()
    assert caught.value.code == "refresh_token_already_used" and not caught.value.retryable
    assert signed_out == [ALREADY_USED] and p.sign_in_needed is ALREADY_USED
    for _ in range(50):  # every request, the uploader's retries, the realtime rejoins...
        with pytest.raises(AuthError):
            await p.get_token()
        with pytest.raises(AuthError):
            await p.refresh("access-1")
        with pytest.raises(AuthError):
            await p.refresh()
    assert refresh.calls == ["refresh-1"] and sign_in.calls == [None]  # ...never reach the server again
    assert signed_out == [ALREADY_USED] and sessions == []  # told once


@pytest.mark.parametrize("with_reauthenticate", [False, True])
async def test_a_refused_stored_credential_signs_out_without_retrying_it(with_reauthenticate: bool) -> None:
    refresh = Grants([ALREADY_USED])
    sign_in = Grants([BAD_PASSWORD]) if with_reauthenticate else None
    p, _, signed_out = provider(refresh, sign_in, expires_at=NOW - 1)
    for _ in range(3):
        with pytest.raises(AuthError):
            await p.get_token()
    expected = BAD_PASSWORD if with_reauthenticate else ALREADY_USED
    assert signed_out == [expected]
    assert len(refresh.calls) == 1 and (sign_in is None or len(sign_in.calls) == 1)


async def test_signed_out_it_keeps_using_a_token_that_is_still_valid() -> None:
    clock = Clock()
    refresh = Grants([ALREADY_USED])
    p, _, signed_out = provider(refresh, Grants([None]), clock=clock, expires_at=NOW + 30)
    assert await p.get_token() == "access-1"  # inside the refresh margin: refused, but still good for 30 s
    assert signed_out == [ALREADY_USED]
    clock.now += 29
    assert await p.get_token() == "access-1"
    clock.now += 2
    with pytest.raises(AuthError):
        await p.get_token()
    assert len(refresh.calls) == 1


async def test_an_unanswered_refresh_is_retried_later_with_the_same_token_never_as_sign_in_needed() -> None:
    clock = Clock()
    refresh = Grants([lost(), ServerError(503, "HTTP503", "busy"), session(2, NOW + 3600)])
    p, sessions, signed_out = provider(refresh, Grants([]), clock=clock, expires_at=NOW + 30)
    assert await p.get_token() == "access-1"  # the reply was lost; the token still works
    assert p.sign_in_needed is None
    for _ in range(20):
        assert await p.get_token() == "access-1"  # backing off: not one refresh per request
    assert len(refresh.calls) == 1
    clock.now += 1.5
    assert await p.get_token() == "access-1"  # 503: back off again, longer
    clock.now += 1.5
    assert await p.get_token() == "access-1"
    assert len(refresh.calls) == 2
    clock.now += 1
    assert await p.get_token() == "access-2"
    # The same refresh token each time: a server that rotated it hands out the same successor.
    assert refresh.calls == ["refresh-1"] * 3
    assert [s.refresh_token for s in sessions] == ["refresh-2"] and signed_out == []


async def test_an_unanswered_refresh_of_a_lapsed_token_is_a_retryable_failure() -> None:
    refresh = Grants([lost(), session(2, NOW + 3600)])
    p, _, signed_out = provider(refresh, Grants([]), expires_at=NOW - 1)
    with pytest.raises(TransportFailure) as caught:
        await p.get_token()
    assert caught.value.retryable and p.sign_in_needed is None and signed_out == []
    assert await p.refresh("access-1") == "access-2"  # the 401 path retries at once
    assert refresh.calls == ["refresh-1", "refresh-1"]


async def test_an_unanswered_sign_in_is_retried_and_the_refused_refresh_token_not_presented_again() -> None:
    refresh = Grants([ALREADY_USED])
    sign_in = Grants([lost(), session(5, NOW + 3600)])
    p, _, signed_out = provider(refresh, sign_in, expires_at=NOW - 1)
    with pytest.raises(TransportFailure):
        await p.refresh("access-1")
    assert p.sign_in_needed is None and signed_out == []
    assert await p.refresh("access-1") == "access-5"
    assert refresh.calls == ["refresh-1"] and sign_in.calls == [None, None]


async def test_a_stored_credential_that_now_names_another_device_needs_a_person() -> None:
    refresh = Grants([ALREADY_USED])
    sign_in = Grants([session(9, NOW + 3600, user="screen-2")])
    p, sessions, signed_out = provider(refresh, sign_in, expires_at=NOW - 1)
    with pytest.raises(AuthError):
        await p.get_token()
    assert [e.code for e in signed_out] == ["device_changed"] and sessions == []
    assert p.session.user.id == "screen-1"
