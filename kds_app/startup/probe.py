"""Asking a server before its settings are saved: pairing with a code, "Test connection", the stations it knows.

Every failure is a `ProbeError` whose message is a sentence for the person at the screen ("Can't reach
kitchen-hub.local:8000: is the hub on?"), never an exception's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from api_client.client import KdsApiClient
from api_client.errors import ApiError, ClientError

from ..media.language import translate

__all__ = [
    "PROBE_TIMEOUT_S",
    "Checked",
    "Paired",
    "ProbeError",
    "check_connection",
    "fetch_known_stations",
    "hub_url",
    "pair_with_code",
    "split_pairing_text",
]

PROBE_TIMEOUT_S = 5.0
DEFAULT_HUB_PORT = 8000
_CODE = re.compile(r"\b([A-Za-z0-9]{4})-?([A-Za-z0-9]{4})\s*$")


class ProbeError(Exception):
    """A check that failed; the message is shown as it is."""


@dataclass(frozen=True)
class Paired:
    """What a pairing code was exchanged for."""

    url: str
    anon_key: str
    email: str
    password: str
    restaurant_id: str
    role: str
    stations: tuple[str, ...]
    known_stations: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """A server that answered: who signed in (if a password was given) and the stations it knows."""

    message: str
    known_stations: tuple[str, ...] | None  # None: this server cannot say (a Supabase project)


def hub_url(text: str) -> str:
    """The hub's address as typed ("kitchen-hub.local:8000", "192.168.1.10", "http://hub:8000/") as a URL."""
    text = text.strip().rstrip("/")
    if not text:
        raise ProbeError(translate("Probe", "Enter the hub's address, e.g. kitchen-hub.local:8000"))
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise ProbeError(translate("Probe", "{text} is not an address: the port must be a number").format(
            text=repr(text))) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise ProbeError(translate("Probe", "{text} is not an address: use a name or IP, e.g. kitchen-hub.local:8000")
                         .format(text=repr(text)))
    if port is None and parts.scheme == "http":
        text = f"http://{parts.netloc}:{DEFAULT_HUB_PORT}{parts.path}"
    return text


def split_pairing_text(text: str) -> tuple[str | None, str]:
    """A pasted "kitchen-hub.local:8000 ABCD-EFGH" (or just the code): (the address or None, the code)."""
    text = text.strip()
    found = _CODE.search(text)
    if found is None:
        raise ProbeError(
            translate("Probe", "A pairing code has 8 letters and digits, like ABCD-EFGH (kds-backend pair prints it)")
        )
    code = (found.group(1) + found.group(2)).upper()
    rest = text[: found.start()].strip().rstrip(",;·").strip()
    return (rest or None), code


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _transport_words(url: str, exc: BaseException) -> str:
    where = _where(url)
    if isinstance(exc, httpx.TimeoutException):
        text = translate("Probe", "{where} did not answer within {seconds} s: is the hub on, and on this network?")
        return text.format(where=where, seconds=f"{PROBE_TIMEOUT_S:g}")
    if isinstance(exc, httpx.ConnectError) and "name" in str(exc).lower():
        return translate("Probe", "Can't find {where}: check the name, or use the hub's IP address").format(where=where)
    return translate("Probe", "Can't reach {where}: is the hub on?").format(where=where)


async def pair_with_code(hub: str, code: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> Paired:
    """Exchange `code` at `hub` (a URL) for the connection settings and a device sign-in."""
    try:
        async with httpx.AsyncClient(base_url=hub, timeout=timeout_s) as http:
            answer = await http.post("/api/v1/pair", json={"code": code})
    except httpx.HTTPError as exc:
        raise ProbeError(_transport_words(hub, exc)) from None
    body = _json(answer)
    if answer.status_code == 404 and "message" not in body:
        text = translate("Probe", "{where} answered, but it does not pair screens: is it a kitchen hub (kds-backend)?")
        raise ProbeError(text.format(where=_where(hub)))
    if answer.status_code == 429:
        text = translate("Probe", "Too many tries: wait {seconds} s and try again")
        raise ProbeError(text.format(seconds=answer.headers.get("Retry-After", "60")))
    if answer.status_code != 200:
        refused = translate("Probe", "{where} refused the code ({status})")  # else the hub's own words
        raise ProbeError(str(body.get("message") or refused.format(where=_where(hub), status=answer.status_code)))
    try:
        return Paired(
            url=str(body["url"]),
            anon_key=str(body["anon_key"]),
            email=str(body["email"]),
            password=str(body["password"]),
            restaurant_id=str(body["restaurant_id"]),
            role=str(body["role"]),
            stations=tuple(body["stations"]),
            known_stations=tuple(body["known_stations"]),
        )
    except (KeyError, TypeError):
        text = translate("Probe", "{where} answered the pairing in a way this screen does not understand")
        raise ProbeError(text.format(where=_where(hub))) from None


async def check_connection(
    url: str, anon_key: str, email: str | None, password: str | None, *, timeout_s: float = PROBE_TIMEOUT_S
) -> Checked:
    """Can this screen use `url` with `anon_key`? With a password, signs in as `email` (and says as what);
    without one, checks that the server answers. `ProbeError` in words otherwise."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=timeout_s) as http:
            health = await http.get("/health")
            if health.status_code == 404:  # a Supabase project: GoTrue's own health check, which wants the key
                health = await http.get("/auth/v1/health", headers={"apikey": anon_key})
    except httpx.HTTPError as exc:
        raise ProbeError(_transport_words(url, exc)) from None
    if health.status_code in (401, 403):
        text = translate(
            "Probe", "{where} refused the anon key: pair again, or paste the key from kds-backend anon-key"
        )
        raise ProbeError(text.format(where=_where(url)))
    if health.status_code >= 500:
        text = translate("Probe", "{where} answered, but is not well ({status}): see its log")
        raise ProbeError(text.format(where=_where(url), status=health.status_code))
    if health.status_code != 200:
        text = translate("Probe", "{where} answered, but is not a kitchen server (no health check, {status})")
        raise ProbeError(text.format(where=_where(url), status=health.status_code))
    if not (email and password):
        text = translate("Probe", "{where} answers. Enter the password to check the sign-in too.")
        return Checked(text.format(where=_where(url)), None)
    auth = KdsApiClient(url, anon_key)
    try:
        try:
            session = await auth.sign_in(email, password)
        except ApiError as exc:
            if exc.status in (401, 403) and "api key" in exc.message.lower():
                text = translate("Probe", "{where} refused the anon key: pair again, or check the key")
                raise ProbeError(text.format(where=_where(url))) from None
            text = translate("Probe", "Sign-in as {email} was refused: {reason}")  # the server's reason as it came
            raise ProbeError(text.format(email=email, reason=exc.message)) from None
        except ClientError as exc:
            text = translate("Probe", "Can't sign in at {where}: {reason}")
            raise ProbeError(text.format(where=_where(url), reason=exc)) from None
    finally:
        await auth.aclose()
    meta = session.user.app_metadata
    role = meta.device_role.value if meta.device_role is not None else "no role"
    if meta.device_role is None or meta.restaurant_id is None:
        text = translate("Probe", "{email} signs in, but is not a device account (no restaurant or role)")
        raise ProbeError(text.format(email=email))
    if role not in ("kds", "expo"):
        text = translate("Probe", "{email} is a {role} device, not a kitchen screen (kds or expo)")
        raise ProbeError(text.format(email=email, role=role))
    known = await fetch_known_stations(url, anon_key, session.access_token, timeout_s=timeout_s)
    shows = ", ".join(meta.stations) or translate("Probe", "all stations")
    text = translate("Probe", "Connected: {email} is a {role} screen of {restaurant} ({stations})")
    return Checked(text.format(email=email, role=role, restaurant=meta.restaurant_id, stations=shows), known)


async def fetch_known_stations(
    url: str, anon_key: str, access_token: str | None, *, timeout_s: float = PROBE_TIMEOUT_S
) -> tuple[str, ...] | None:
    """The stations the server knows (`GET /api/v1/stations`), or None if it cannot say or does not answer."""
    headers = {"apikey": anon_key, **({"Authorization": f"Bearer {access_token}"} if access_token else {})}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=timeout_s) as http:
            answer = await http.get("/api/v1/stations", headers=headers)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    stations = _json(answer).get("stations")
    return tuple(str(s) for s in stations) if isinstance(stations, list) else None


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
