"""Every `KDS_*` variable is checked at start: a bad value is refused naming the variable, the value and what is
allowed (issue 18), through `read_env` and through `kds-backend serve` as an installer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kds_backend.env import KdsEnv, SettingsError, env_table, read_env, variable
from kds_backend.hub.settings import UpstreamSettings
from kds_backend.realtime.config import RealtimeConfig
from kds_backend.settings import RequestLimits, Settings

REPO = Path(__file__).resolve().parents[2]
SECRET = "a-test-secret-of-at-least-32-characters-long"

# name: (lowest allowed, highest allowed, whole numbers only). Written out here, not read from the model, so a
# range changed by accident fails a test; every numeric variable must be listed (test_every_variable_is_tested).
RANGES: dict[str, tuple[float, float, bool]] = {
    "KDS_ACCESS_TOKEN_TTL": (10, 604_800, True),
    "KDS_REFRESH_REUSE_WINDOW": (0, 2_592_000, False),
    "KDS_RATE_LIMIT": (0.01, 1_000_000, False),
    "KDS_RATE_BURST": (1, 10_000_000, True),
    "KDS_DAY_END_HOUR": (0, 23, True),
    "KDS_MAX_BODY_BYTES": (1024, 1 << 30, True),
    "KDS_MAX_HEADER_BYTES": (1024, 16 << 20, True),
    "KDS_HEADER_TIMEOUT": (0.1, 3600, False),
    "KDS_BODY_TIMEOUT": (0.1, 3600, False),
    "KDS_KEEP_ALIVE_TIMEOUT": (0.1, 3600, False),
    "KDS_MAX_CONNECTIONS": (1, 1_000_000, True),
    "KDS_REALTIME_HEARTBEAT_TIMEOUT_S": (0.1, 3600, False),
    "KDS_REALTIME_SEND_QUEUE": (10, 1_000_000, True),
    "KDS_REALTIME_SEND_QUEUE_BYTES": (2 * 1_048_576 + 65_536, 1 << 30, True),
    "KDS_REALTIME_MAX_CHANNELS": (1, 10_000, True),
    "KDS_REALTIME_MAX_BINDINGS": (1, 10_000, True),
    "KDS_REALTIME_MAX_FILTER_TERMS": (1, 100_000, True),
    "KDS_REALTIME_MAX_RESTAURANT_FILTER_TERMS": (1, 10_000_000, True),
    "KDS_REALTIME_MAX_SOCKETS_PER_DEVICE": (1, 100_000, True),
    "KDS_REALTIME_JOINS_PER_S": (0.01, 1_000_000, False),
    "KDS_REALTIME_JOIN_BURST": (1, 1_000_000, True),
    "KDS_REALTIME_MESSAGES_PER_S": (0.01, 1_000_000, False),
    "KDS_REALTIME_MESSAGE_BURST": (1, 1_000_000, True),
    "KDS_REALTIME_BYTES_PER_S": (1024, 1 << 30, False),
    "KDS_REALTIME_BYTES_BURST": (65_536, 1 << 30, True),
    "KDS_REALTIME_TICK_S": (0.1, 3600, False),
    "KDS_UPSTREAM_HEARTBEAT_S": (0.5, 300, False),
    "KDS_BACKUP_PRINT_AFTER": (0.1, 3600, False),
    "KDS_BACKUP_PRINT_RETRY_MAX": (0.1, 3600, False),
}
# Text variables: (a value refused, the words its refusal must say is allowed).
TEXTS: dict[str, tuple[str, str]] = {
    "KDS_DATABASE_URL": ("mysql://kds@db/kds", "sqlite:///path or postgresql://"),
    "KDS_TIMEZONE": ("Mars/Olympus", "an IANA time zone such as Europe/Paris"),
    "KDS_WS_COMPRESSION": ("maybe", "1 or 0"),
    "KDS_CORS_ORIGINS": ("https://dashboard.example.com/", "origins like https://dashboard.example.com"),
}
FREE_TEXT = {  # anything is a valid value; what they must agree on is checked where they are used together
    "KDS_DATA_DIR",
    "KDS_UPSTREAM_URL",
    "KDS_UPSTREAM_ANON_KEY",
    "KDS_UPSTREAM_EMAIL",
    "KDS_UPSTREAM_PASSWORD",
    "KDS_UPSTREAM_TOKEN",
    "KDS_UPSTREAM_STORE",
    "KDS_JWT_SECRET",
}


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _refused(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        read_env(env)
    return caught.value.problems


def test_every_variable_is_tested() -> None:
    variables = {variable(f) for f in KdsEnv.model_fields}
    assert variables - set(RANGES) - set(TEXTS) - FREE_TEXT == set()
    assert set(RANGES) | set(TEXTS) <= variables


@pytest.mark.parametrize("name", sorted(RANGES))
def test_a_number_is_accepted_at_both_ends_of_its_range(name: str) -> None:
    low, high, _ = RANGES[name]
    field = name.removeprefix("KDS_").lower()
    assert getattr(read_env({name: _text(low)}), field) == low
    assert getattr(read_env({name: f" {_text(high)} "}), field) == high  # spaces around it, as a shell may leave


@pytest.mark.parametrize("name", sorted(RANGES))
def test_a_number_out_of_its_range_or_not_a_number_is_refused_naming_the_range(name: str) -> None:
    low, high, whole = RANGES[name]
    field = name.removeprefix("KDS_").lower()
    below = low - 1 if whole or low == 0 else low - min(0.01, low / 2)
    bads = [_text(below), _text(high * 2), "1h", "nan", "inf"] + ([f"{_text(low)}.5"] if whole else [])
    for raw in bads:
        problems = _refused({name: raw})
        assert len(problems) == 1
        assert problems[0].startswith(f"{name} must be "), problems
        assert problems[0].endswith(f"from {_text(low)} to {_text(high)}, not {raw!r}"), problems
        assert ("whole" in problems[0]) is whole
    # An empty value is no value: the default, as before.
    assert getattr(read_env({name: ""}), field) == KdsEnv.model_fields[field].default


def test_the_issue_examples() -> None:
    """`KDS_ACCESS_TOKEN_TTL=-5` was accepted (tokens born expired) and `=1h` failed with `invalid literal for
    int()` without naming the variable."""
    assert _refused({"KDS_ACCESS_TOKEN_TTL": "-5"}) == [
        "KDS_ACCESS_TOKEN_TTL must be a whole number of seconds from 10 to 604800, not '-5'"
    ]
    assert _refused({"KDS_ACCESS_TOKEN_TTL": "1h"}) == [
        "KDS_ACCESS_TOKEN_TTL must be a whole number of seconds from 10 to 604800, not '1h'"
    ]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_a_bad_text_value_is_refused_saying_what_is_allowed(name: str) -> None:
    raw, allowed = TEXTS[name]
    (problem,) = _refused({name: raw})
    assert problem.startswith(f"{name} must be ") and allowed in problem and problem.endswith(f"not {raw!r}")


@pytest.mark.parametrize(("raw", "on"), [("1", True), ("on", True), ("YES", True), ("0", False), ("off", False)])
def test_a_flag_takes_the_usual_words(raw: str, on: bool) -> None:
    assert read_env({"KDS_WS_COMPRESSION": raw}).ws_compression is on


def test_a_short_secret_is_refused_without_printing_it() -> None:
    (problem,) = _refused({"KDS_JWT_SECRET": "hunter2-hunter2"})
    assert problem == "KDS_JWT_SECRET must be at least 32 characters, not a 15-character value"
    assert "hunter2" not in problem


def test_every_bad_variable_is_named_at_once() -> None:
    problems = _refused({"KDS_MAX_BODY_BYTES": "1MB", "KDS_DAY_END_HOUR": "4am", "KDS_RATE_LIMIT": "-1"})
    assert [p.split()[0] for p in problems] == ["KDS_RATE_LIMIT", "KDS_DAY_END_HOUR", "KDS_MAX_BODY_BYTES"]


def test_a_given_environment_is_read_not_the_process_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping the model is given when there is one (tests, a child's environment), else the process's."""
    monkeypatch.setenv("KDS_MAX_CONNECTIONS", "0")
    assert read_env({}).max_connections == 1000
    with pytest.raises(SettingsError, match=r"^KDS_MAX_CONNECTIONS must be"):
        read_env()


def test_the_defaults_are_the_dataclasses_defaults(tmp_path: Path) -> None:
    """The model and the dataclasses the server runs on say the same defaults."""
    assert RequestLimits.from_env({}) == RequestLimits()
    assert RealtimeConfig.from_env({}) == RealtimeConfig()
    upstream = {"KDS_UPSTREAM_URL": "https://x.supabase.co", "KDS_UPSTREAM_ANON_KEY": "a", "KDS_UPSTREAM_TOKEN": "t"}
    settings = UpstreamSettings.from_env(upstream, tmp_path)
    assert settings is not None and settings.heartbeat_s == UpstreamSettings.heartbeat_s
    env = read_env({})
    plain = Settings(database_url="sqlite://", jwt_secret=SECRET)
    assert (env.access_token_ttl, env.rate_limit, env.rate_burst) == (
        plain.access_token_ttl_s,
        plain.rate_limit_per_s,
        plain.rate_limit_burst,
    )
    assert (env.day_end_hour, env.refresh_reuse_window, env.ws_compression) == (
        plain.day_end_hour,
        plain.refresh_reuse_window_s,
        plain.ws_compression,
    )


def test_the_readme_table_is_the_model() -> None:
    """The README's table of variables is `env_table()`: a variable added, or a range changed, shows there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paste = "python -c 'from kds_backend.env import env_table; print(env_table())'"
    assert env_table() in readme, f"README.md's variables table is out of date: paste the output of {paste}"


# -- kds-backend serve, as an installer runs it


def serve(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env |= {"KDS_DATA_DIR": str(tmp_path), "KDS_JWT_SECRET": SECRET, **variables}
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "serve", "--port", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("KDS_ACCESS_TOKEN_TTL", "-5", "a whole number of seconds from 10 to 604800"),
        ("KDS_ACCESS_TOKEN_TTL", "1h", "a whole number of seconds from 10 to 604800"),
        ("KDS_REALTIME_MAX_CHANNELS", "0", "a whole number of channels from 1 to 10000"),
        ("KDS_UPSTREAM_HEARTBEAT_S", "nan", "seconds from 0.5 to 300"),
        ("KDS_TIMEZONE", "Europe/Pariss", "an IANA time zone such as Europe/Paris"),
    ],
)
def test_serve_refuses_a_bad_value_in_one_line_and_touches_nothing(
    tmp_path: Path, name: str, raw: str, says: str
) -> None:
    done = serve(tmp_path, **{name: raw})
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"kds-backend: error: {name} must be {says}, not {raw!r}\n"
    assert "Traceback" not in done.stdout
    assert not (tmp_path / "companion.db").exists()  # refused before the database was opened or created


def test_serve_names_every_bad_value(tmp_path: Path) -> None:
    done = serve(tmp_path, KDS_RATE_LIMIT="fast", KDS_MAX_CONNECTIONS="0")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "kds-backend: error: KDS_RATE_LIMIT must be a number per second from 0.01 to 1000000, not 'fast'",
        "kds-backend: error: KDS_MAX_CONNECTIONS must be a whole number of connections from 1 to 1000000, not '0'",
    ]
