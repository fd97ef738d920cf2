"""Password hashing: scrypt with a random salt and self-describing parameters."""

from __future__ import annotations

import hmac

import pytest

from kds_backend.auth import passwords
from kds_backend.auth.passwords import DEFAULT_PARAMS, ScryptParams, hash_password, verify_password

CHEAP = ScryptParams(n=2**8, r=8, p=1)


def test_default_hash_round_trip_and_encodes_its_parameters() -> None:
    encoded = hash_password("correct horse battery staple")
    scheme, n, r, p, salt, key = encoded.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", DEFAULT_PARAMS.n, DEFAULT_PARAMS.r, DEFAULT_PARAMS.p)
    assert salt and key and "correct" not in encoded
    assert len(encoded) <= 300  # fits devices.password_hash
    assert verify_password("correct horse battery staple", encoded)
    assert not verify_password("correct horse battery stapl", encoded)


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("same password", CHEAP), hash_password("same password", CHEAP)
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("same password", first) and verify_password("same password", second)


def test_verification_uses_the_parameters_stored_in_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    old = hash_password("kitchen-pass", CHEAP)
    monkeypatch.setattr(passwords, "DEFAULT_PARAMS", ScryptParams(n=2**9, r=8, p=2))
    assert hash_password("kitchen-pass").split("$")[1:4] == ["512", "8", "2"]
    assert verify_password("kitchen-pass", old)


@pytest.mark.parametrize("password", ["", "ünïcödé-pässwörd", "with\x00nul", "🍔🍟" * 50])
def test_unusual_passwords_round_trip(password: str) -> None:
    encoded = hash_password(password, CHEAP)
    assert verify_password(password, encoded)
    assert not verify_password(password + "x", encoded)


def test_lone_surrogate_fails_to_match_without_raising() -> None:
    encoded = hash_password("grill-station", CHEAP)
    assert not verify_password("grill-\ud800", encoded)


def test_tampered_key_or_salt_does_not_match() -> None:
    encoded = hash_password("expo-screen", CHEAP)
    parts = encoded.split("$")
    flipped_key = parts[5][:-2] + ("AA" if parts[5][-2:] != "AA" else "BB")
    assert not verify_password("expo-screen", "$".join([*parts[:5], flipped_key]))
    flipped_salt = ("A" if parts[4][0] != "A" else "B") + parts[4][1:]
    assert not verify_password("expo-screen", "$".join([*parts[:4], flipped_salt, parts[5]]))


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain-text-password",
        "bcrypt$12$8$1$c2FsdA$a2V5",
        "scrypt$abc$8$1$c2FsdA$a2V5",
        "scrypt$256$8$1$c2FsdA",
        "scrypt$1073741824$8$1$c2FsdGNhbm5vdGJlZW1wdHk$" + "A" * 43,  # n = 2**30: would need 1 TiB
        "scrypt$300$8$1$c2FsdGNhbm5vdGJlZW1wdHk$" + "A" * 43,  # n not a power of two
        "scrypt$256$8$1$c2FsdGNhbm5vdGJlZW1wdHk$a2V5",  # key of the wrong length
        "scrypt$256$8$1$$" + "A" * 43,  # no salt
        "scrypt$256$8$1$!!!$" + "A" * 43,  # salt that is not base64
    ],
)
def test_malformed_hashes_never_match_and_never_raise(encoded: str) -> None:
    assert verify_password("anything", encoded) is False


def test_invalid_parameters_are_refused_when_hashing() -> None:
    with pytest.raises(ValueError):
        hash_password("x" * 10, ScryptParams(n=1000, r=8, p=1))


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(passwords.hmac, "compare_digest", spy)
    encoded = hash_password("pos-terminal", CHEAP)
    assert verify_password("pos-terminal", encoded)
    assert len(calls) == 1 and len(calls[0][0]) == len(calls[0][1]) == passwords.KEY_BYTES


def test_unknown_accounts_cost_a_real_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "DEFAULT_PARAMS", CHEAP)
    derived: list[ScryptParams] = []
    real = passwords._derive

    def spy(password: str, salt: bytes, params: ScryptParams) -> bytes:
        derived.append(params)
        return real(password, salt, params)

    monkeypatch.setattr(passwords, "_derive", spy)
    assert passwords.verify_unknown_account("guess") is False
    assert derived[-1] == CHEAP
