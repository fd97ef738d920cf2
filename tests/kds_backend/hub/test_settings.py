"""A hub's upstream settings: what an installer types, and the errors that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_backend.hub.settings import STORE_FILE, UpstreamSettings

BASE = {"KDS_UPSTREAM_ANON_KEY": "anon", "KDS_UPSTREAM_EMAIL": "hub@kitchen.test", "KDS_UPSTREAM_PASSWORD": "pw"}


def test_no_upstream_is_a_plain_companion(tmp_path: Path) -> None:
    assert UpstreamSettings.from_env({}, tmp_path) is None


def test_the_command_line_url_wins_and_the_mirror_lives_in_the_data_directory(tmp_path: Path) -> None:
    env = {**BASE, "KDS_UPSTREAM_URL": "https://env.supabase.co"}
    settings = UpstreamSettings.from_env(env, tmp_path, url="https://abc.supabase.co/")
    assert settings is not None
    assert settings.url == "https://abc.supabase.co" and settings.store_path == tmp_path / STORE_FILE
    assert settings.heartbeat_s == 25.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**BASE, "KDS_UPSTREAM_URL": "abc.supabase.co"}, "KDS_UPSTREAM_URL must be an http"),
        ({**BASE, "KDS_UPSTREAM_URL": "https://x.co", "KDS_UPSTREAM_ANON_KEY": ""}, "KDS_UPSTREAM_ANON_KEY is needed"),
        ({"KDS_UPSTREAM_URL": "https://x.co", "KDS_UPSTREAM_ANON_KEY": "a"}, "KDS_UPSTREAM_EMAIL and"),
        ({**BASE, "KDS_UPSTREAM_URL": "https://x.co", "KDS_UPSTREAM_TOKEN": "t"}, "not both"),
        ({**BASE, "KDS_UPSTREAM_URL": "https://x.co", "KDS_UPSTREAM_HEARTBEAT_S": "1h"}, "KDS_UPSTREAM_HEARTBEAT_S"),
        ({**BASE, "KDS_UPSTREAM_URL": "https://x.co", "KDS_UPSTREAM_HEARTBEAT_S": "nan"}, "from 0.5 to 300"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UpstreamSettings.from_env(env, tmp_path)
