from __future__ import annotations

import pytest

from sync.realtime.frames import Vsn
from sync.realtime.url import websocket_url


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://abcd.supabase.co", "wss://abcd.supabase.co/realtime/v1/websocket?apikey=K&vsn=1.0.0"),
        ("https://abcd.supabase.co/", "wss://abcd.supabase.co/realtime/v1/websocket?apikey=K&vsn=1.0.0"),
        ("https://abcd.supabase.co/realtime/v1", "wss://abcd.supabase.co/realtime/v1/websocket?apikey=K&vsn=1.0.0"),
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/realtime/v1/websocket?apikey=K&vsn=1.0.0"),
        ("ws://h:1/realtime/v1/websocket", "ws://h:1/realtime/v1/websocket?apikey=K&vsn=1.0.0"),
    ],
)
def test_supabase_and_companion_urls(base: str, expected: str) -> None:
    assert websocket_url(base, "K") == expected


def test_vsn_2_and_key_encoding() -> None:
    assert websocket_url("http://h", "a+b/c=", Vsn.V2) == "ws://h/realtime/v1/websocket?apikey=a%2Bb%2Fc%3D&vsn=2.0.0"


def test_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        websocket_url("ftp://h", "K")
