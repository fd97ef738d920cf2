"""The Realtime websocket URL for a Supabase project or the companion (both mount `/realtime/v1`)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from .frames import Vsn


def websocket_url(base_url: str, apikey: str, vsn: Vsn = Vsn.V1) -> str:
    """`https://<ref>.supabase.co` → `wss://<ref>.supabase.co/realtime/v1/websocket?apikey=...&vsn=1.0.0`.

    Accepts the project URL with or without `/realtime/v1`, and http/https/ws/wss schemes.
    """
    parts = urlsplit(base_url.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an http(s) or ws(s) URL: {base_url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/websocket"):
        path = path.removesuffix("/websocket")
    if not path.endswith("/realtime/v1"):
        path = f"{path}/realtime/v1"
    # The key is percent-encoded: publishable keys and JWTs are URL-safe today, but nothing promises it.
    query = f"apikey={quote(apikey, safe='')}&vsn={vsn.value}"
    return urlunsplit((scheme, parts.netloc, f"{path}/websocket", query, ""))
