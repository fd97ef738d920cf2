"""Hypothesis-generated Phoenix frames against `/realtime/v1/websocket` on a live `kds-backend serve` (issue 17).

The websocket's half of the schema fuzz (`tests/kds_backend/test_fuzz_openapi.py`): each example opens a socket
with one of the serializers and a device of the restaurant, another restaurant's, or the anon key, and sends a
few generated frames: Phoenix messages of the wrong shape (missing keys, extra keys, arrays for objects, the
wrong types for topic, event, ref and payload), joins with generated configs and filters, unknown events,
presence and broadcast pushes, lone surrogates, huge payloads (past the 1 MiB frame limit too), deep nesting,
binary frames (V2 user broadcasts with generated headers and bodies, JSON in UTF-16, random bytes) and text
frames that are not UTF-8. Then it asks the socket for a heartbeat. What must hold, every time:

- the server answers: the heartbeat's reply comes, or the socket was closed with a Phoenix/websocket close code
  for bad input (1000, 1003, 1007, 1008, 1009); never 1011 (an internal error), never a hang;
- whatever it sends back is a well-formed frame, and never `phx_error` (a channel handler that crashed);
- nothing in the server's log is a traceback, and the process is up;
- a well-behaved screen of r1 on the same server receives the order posted after every example.

`KDS_FUZZ_EXAMPLES=500` for a deeper run (the CI size stays well under a minute).
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S, order_body
from tests.live_server import LiveServer, serving_sqlite

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("KDS_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
BAD_INPUT_CLOSES = {1000, 1003, 1007, 1008, 1009}
"""Normal, unsupported data, invalid data, policy (rate), too big: the answers to a client's bad frames."""
SCREEN_TOPIC = "realtime:orders"
ANON = issue_anon_key(JWT_SECRET)
_devices = itertools.count()
_orders = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The REST rate limit is not under test: one order per example from one POS must not be throttled; nor are a
    # restaurant's realtime bytes per second, which would pace the examples' megabyte frames (test_byte_allowance).
    unpaced = {"KDS_REALTIME_BYTES_PER_S": str(1 << 30), "KDS_REALTIME_BYTES_BURST": str(1 << 30)}
    yield from serving_sqlite(
        tmp_path_factory.mktemp("ws-fuzz"), {"KDS_RATE_LIMIT": "10000", "KDS_RATE_BURST": "10000", **unpaced}
    )


def ws_url(server: LiveServer, apikey: str, vsn: str = "1.0.0") -> str:
    return f"{server.url.replace('http', 'ws')}/realtime/v1/websocket?apikey={apikey}&vsn={vsn}"


def as_v1(data: str | bytes) -> dict[str, Any] | None:
    """A server text frame as a V1 object; None for a V2 binary broadcast. Fails on a malformed frame."""
    if isinstance(data, bytes):
        assert data and data[0] == 4, data[:20]  # the only binary frame the server sends: a user broadcast
        return None
    msg = json.loads(data)
    if isinstance(msg, list):
        assert len(msg) == 5, msg
        join_ref, ref, topic, event, payload = msg
        msg = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
    assert isinstance(msg, dict) and isinstance(msg["topic"], str) and isinstance(msg["event"], str), msg
    assert isinstance(msg["payload"], dict), msg
    return msg


class Screen:
    """r1's well-behaved kitchen screen: joined for order inserts, it must see every order posted."""

    def __init__(self, server: LiveServer) -> None:
        # No keepalive pings: websockets draws each ping's payload from the `random` module on its own thread, and
        # one drawn while Hypothesis generates an example fails the run (FlakyStrategyDefinition, seen on a slow
        # machine). `still_receives` sends a Phoenix heartbeat instead, which is what the server counts.
        url = ws_url(server, token_for("kds", device="r1-kds-screen"))
        self.ws = connect(url, open_timeout=TIMEOUT_S, ping_interval=None)
        join = {"config": {"postgres_changes": [{"event": "INSERT", "schema": "public", "table": "orders"}]}}
        self.ws.send(json.dumps({"topic": SCREEN_TOPIC, "event": "phx_join", "payload": join, "ref": "1"}))
        self.wait_for(lambda m: m["event"] == "phx_reply" and m["payload"]["status"] == "ok")
        self.http = httpx.Client(base_url=server.url, timeout=TIMEOUT_S)

    def wait_for(self, wanted: Any) -> dict[str, Any]:
        while True:
            msg = as_v1(self.ws.recv(timeout=TIMEOUT_S))
            if msg is not None and wanted(msg):
                return msg

    def still_receives(self) -> None:
        # A heartbeat too, so the screen's socket is never closed for silence however long the run.
        self.ws.send(json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "hb"}))
        number = f"fuzz-{next(_orders)}"
        headers = {**auth_headers(token_for("pos")), "Idempotency-Key": str(uuid.uuid4())}
        r = self.http.post("/api/v1/orders", json=order_body(number), headers=headers)
        assert r.status_code == 201, r.text
        self.wait_for(lambda m: m["event"] == "postgres_changes" and m["payload"]["data"]["record"]["number"] == number)

    def close(self) -> None:
        self.ws.close()
        self.http.close()


@pytest.fixture(scope="module")
def screen(server: LiveServer) -> Iterator[Screen]:
    s = Screen(server)
    yield s
    s.close()


# ---------------------------------------------------------------- what hostile clients send

_text = st.text(max_size=20)  # any code point, lone surrogates included (json.dumps escapes them as \udXXX)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)
_topic = st.one_of(
    st.sampled_from(
        ["phoenix", "realtime:fuzz", SCREEN_TOPIC, "realtime:", "realtime:kds:r1", "realtime:kds:r2", "fuzz", ""]
    ),
    _text.map(lambda t: "realtime:" + t),
    _json,
)
_event = st.one_of(
    st.sampled_from(
        [
            "phx_join",
            "phx_leave",
            "heartbeat",
            "access_token",
            "presence",
            "broadcast",
            "postgres_changes",
            "phx_reply",
            "phx_close",
            "phx_error",
            "system",
        ]
    ),
    _text,
    _json,
)
_filter = st.one_of(
    st.sampled_from(
        ["status=eq.new", "id=in.(1,2,3)", "status=not.in.(a,b)", "number=like.%", "x=eq.", "=", "status=in.("]
    ),
    _text,
    st.integers(1, 50).map(lambda n: "status=in.(" + ",".join(str(i) for i in range(n * 10)) + ")"),
)
_binding = st.one_of(
    st.fixed_dictionaries(
        {"event": st.sampled_from(["*", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "x"])},
        optional={
            "schema": st.sampled_from(["public", "kds", "auth", ""]),
            "table": st.sampled_from(["orders", "order_items", "menu_availability", "nope", "*"]),
            "filter": _filter,
        },
    ),
    _json,
)
_config = st.fixed_dictionaries(
    {},
    optional={
        "postgres_changes": st.one_of(
            st.lists(_binding, max_size=6), st.lists(_binding, min_size=101, max_size=102), _json
        ),
        "presence": st.one_of(st.fixed_dictionaries({}, optional={"key": _json, "enabled": _json}), _json),
        "broadcast": st.one_of(st.fixed_dictionaries({}, optional={"self": _json, "ack": _json}), _json),
        "private": _json,
        "postgres_changes_options": _json,
    },
)
_join_payload = st.fixed_dictionaries(
    {"config": st.one_of(_config, _json)},
    optional={"access_token": st.one_of(st.just(token_for("kds", restaurant="r2")), st.just(ANON), _json)},
)
_presence_payload = st.fixed_dictionaries(
    {"type": st.sampled_from(["presence", "broadcast", ""]), "event": st.sampled_from(["track", "untrack", "x"])},
    optional={"payload": _json},
)
_broadcast_payload = st.fixed_dictionaries(
    {"type": st.sampled_from(["broadcast", "presence", ""]), "event": _text},
    optional={"payload": _json},
)
_huge_payload = st.sampled_from([100_000, 1_000_000, 1_100_000]).map(
    lambda n: {"type": "broadcast", "event": "big", "payload": {"blob": "x" * n}}
)
_payload = st.one_of(_join_payload, _presence_payload, _broadcast_payload, _json, _huge_payload)
_ref = st.one_of(st.none(), st.text(max_size=8), st.integers(-(2**70), 2**70), st.just("r" * 300), _json)


@st.composite
def _message(draw: st.DrawFn) -> Any:
    """A Phoenix message in either serializer's shape, with parts of any type, some missing, some extra."""
    parts = {
        "topic": draw(_topic),
        "event": draw(_event),
        "payload": draw(_payload),
        "ref": draw(_ref),
        "join_ref": draw(_ref),
    }
    if draw(st.booleans()):  # the V1 object, maybe without some keys and with others
        keep = draw(st.sets(st.sampled_from(sorted(parts)), min_size=2))
        return {**{k: v for k, v in parts.items() if k in keep}, **draw(st.dictionaries(_text, _json, max_size=2))}
    array = [parts["join_ref"], parts["ref"], parts["topic"], parts["event"], parts["payload"]]
    return array[: draw(st.integers(0, 6))] + draw(st.lists(_json, max_size=1))


def _user_broadcast_v2(topic: str, event: str, meta: bytes, encoding: int, body: bytes) -> bytes:
    fields = [b"1", b"9", topic.encode(), event.encode("utf-8", "replace"), meta]
    return bytes([3, *[min(len(f), 255) for f in fields], encoding]) + b"".join(fields) + body


class Frame(NamedTuple):
    """What to send, and as what: text (True), binary (False), or as its type says (None)."""

    data: str | bytes
    text: bool | None

    def __repr__(self) -> str:
        # Short: hypothesis prints failing examples, and a MiB frame in full would bury the report.
        shown = self.data if len(self.data) <= 300 else self.data[:300]
        return f"Frame({shown!r}{'...' if len(self.data) > 300 else ''} ({len(self.data)}), text={self.text})"


def _frame_of(text: bool | None) -> Any:
    return lambda data: Frame(data, text)


_frame: st.SearchStrategy[Frame] = st.one_of(
    # Most are JSON of a message's shape, as text (surrogates escaped, as a hostile client sends them).
    _message().map(json.dumps).map(_frame_of(None)),
    _message().map(json.dumps).map(_frame_of(None)),
    _message().map(json.dumps).map(_frame_of(None)),
    # The same as a binary frame, in UTF-8 or UTF-16 (JSON's other encodings), or with a raw lone surrogate.
    _message().map(lambda m: json.dumps(m).encode()).map(_frame_of(False)),
    _message().map(lambda m: json.dumps(m, ensure_ascii=False).encode("utf-16", "surrogatepass")).map(_frame_of(False)),
    _message().map(lambda m: json.dumps(m, ensure_ascii=False).encode("utf-8", "surrogatepass")).map(_frame_of(False)),
    # Any JSON at all, and JSON nested past the interpreter's recursion limit.
    _json.map(json.dumps).map(_frame_of(None)),
    st.integers(1, 200_000).map(lambda n: "[" * n + "]" * n).map(_frame_of(None)),
    # Text frames that are not UTF-8, and random bytes.
    st.binary(max_size=64).map(lambda b: b"\xff\xfe" + b + b"\xed\xa0\x80").map(_frame_of(True)),
    st.binary(max_size=300).map(_frame_of(False)),
    # V2 user broadcasts (kind 3) with generated header fields, encodings and bodies; other binary kinds.
    st.builds(
        _user_broadcast_v2,
        st.one_of(st.just("realtime:fuzz"), st.just(SCREEN_TOPIC), _text),
        _text,
        st.one_of(st.just(b""), _json.map(lambda v: json.dumps(v).encode()), st.binary(max_size=20)),
        st.integers(0, 3),
        st.one_of(
            _json.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=100),
            st.integers(1_048_000, 1_100_000).map(lambda n: b"x" * n),
        ),
    ).map(_frame_of(False)),
    st.tuples(st.integers(0, 255), st.binary(max_size=40)).map(lambda t: Frame(bytes([t[0]]) + t[1], False)),
)


def _join(topic: str) -> Frame:
    return Frame(json.dumps({"topic": topic, "event": "phx_join", "payload": {"config": {}}, "ref": "j"}), None)


_frames = st.one_of(
    st.lists(_frame, min_size=1, max_size=4),
    # Joined first, so pushes on the channel reach presence, broadcast and token refresh, not `unmatched topic`.
    st.tuples(st.sampled_from(["realtime:fuzz", SCREEN_TOPIC]), st.lists(_frame, min_size=1, max_size=3)).map(
        lambda t: [_join(t[0]), *t[1]]
    ),
)


def heartbeat(vsn: str, ref: str) -> str:
    if vsn == "1.0.0":
        return json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": ref})
    return json.dumps([None, ref, "phoenix", "heartbeat", {}])


def answers_or_closes(ws: ClientConnection, vsn: str, cut_off: bool = False) -> None:
    """The socket answers a heartbeat after what it was sent, or was closed for it, properly; every frame it
    sends meanwhile is well formed and none is `phx_error`. `cut_off`: the server closed while this client was
    still sending (after refusing a frame); then the client library may lose the close frame it had received
    (its failed send tears the socket down before its reader parses it), so only the server's side is checked."""
    try:
        try:
            ws.send(heartbeat(vsn, "probe"))
        except websockets.ConnectionClosed:
            cut_off = True  # closed while this client was sending, as above
            raise
        while True:
            msg = as_v1(ws.recv(timeout=TIMEOUT_S))  # TimeoutError: the server hangs
            if msg is None:
                continue
            assert msg["event"] != "phx_error", msg
            if msg["event"] == "phx_reply" and msg["topic"] == "phoenix" and msg["ref"] == "probe":
                assert msg["payload"]["status"] == "ok", msg
                return
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None and cut_off:
            return  # the server's log and process are checked by the caller
        assert closed.rcvd is not None, "the server dropped the connection without a close frame"
        assert closed.rcvd.code in BAD_INPUT_CLOSES, closed.rcvd


class LogWatch:
    """New lines of the server's log since the last look: a traceback is a crash somewhere, whatever the socket saw."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, path.stat().st_size

    def new_tracebacks(self) -> str:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            raw = f.read()
        self.offset += len(raw)
        text = raw.decode("utf-8", "replace")
        # A frame dropped at the send because UTF-8 cannot encode it: a lone surrogate got past decode's check.
        return text if "Traceback" in text or "UTF-8 cannot encode" in text else ""


@pytest.fixture(scope="module")
def log_watch(server: LiveServer) -> LogWatch:
    return LogWatch(server.log_path)


_apikeys = st.sampled_from(["r1", "r2", "anon"])


@FUZZ
@given(frames=_frames, vsn=st.sampled_from(["1.0.0", "2.0.0"]), who=_apikeys)
def test_generated_frames_get_an_answer_or_a_close_and_the_screen_keeps_receiving(
    server: LiveServer, screen: Screen, log_watch: LogWatch, frames: list[Frame], vsn: str, who: str
) -> None:
    # A device of its own per socket, so the per-device socket cap never refuses the handshake.
    apikey = ANON if who == "anon" else token_for("kds", restaurant=who, device=f"{who}-fuzz-{next(_devices)}")
    with connect(ws_url(server, apikey, vsn), max_size=None, open_timeout=TIMEOUT_S, close_timeout=TIMEOUT_S) as ws:
        cut_off = False
        try:
            for data, text in frames:
                ws.send(data, text=text)
        except websockets.ConnectionClosed:
            cut_off = True  # closed for an earlier frame: the check below reads why
        answers_or_closes(ws, vsn, cut_off)
    assert server.proc.poll() is None, "the server exited"
    assert not log_watch.new_tracebacks()
    screen.still_receives()


_query_value = st.one_of(st.text(max_size=30), st.sampled_from(["1.0.0", "2.0.0", "3.0.0", "1.1.0", "", "x" * 5000]))


@settings(FUZZ, max_examples=max(10, MAX_EXAMPLES // 3))
@given(
    vsn=st.one_of(st.none(), _query_value),
    apikey=st.one_of(st.none(), st.sampled_from(["r1", "anon", "forged"]), _query_value),
    header=st.one_of(st.none(), _query_value),
)
@example(vsn="x" * 5000, apikey="x" * 5000, header=None)  # a request line over 8 KiB: found by CI
def test_a_generated_handshake_is_accepted_or_refused_with_a_4xx(
    server: LiveServer, screen: Screen, log_watch: LogWatch, vsn: str | None, apikey: str | None, header: str | None
) -> None:
    keys = {
        "r1": token_for("kds", device=f"r1-fuzz-{next(_devices)}"),
        "anon": ANON,
        "forged": token_for("kds", secret="another-secret-that-is-long-enough-0123456789abc"),
    }
    params = {"vsn": vsn, "apikey": keys.get(apikey or "", apikey)}
    query = str(httpx.QueryParams({k: v for k, v in params.items() if v is not None}))
    url = f"{server.url.replace('http', 'ws')}/realtime/v1/websocket?{query}"
    # The apikey header is read when the query has none; printable ASCII is what a client can send there.
    headers = {"apikey": header.encode("ascii", "ignore").decode().strip()} if header else None
    try:
        with connect(url, additional_headers=headers, open_timeout=TIMEOUT_S) as ws:
            answers_or_closes(ws, vsn or "1.0.0")
    except websockets.InvalidStatus as refused:
        assert 400 <= refused.response.status_code < 500, refused.response
        # The app's refusals are Supabase's `{"error": ...}`. A request the HTTP layer cannot parse gets a plain-text
        # 400 before the app is asked: uvicorn's for a bad request, the websockets parser's for a request line over
        # its 8 KiB (two 5,000-character query values).
        unparsed = (b"Invalid HTTP request received.", b"Failed to open a WebSocket connection: invalid request.\n")
        if refused.response.body not in unparsed:
            assert "error" in json.loads(refused.response.body or b"{}"), refused.response.body
    assert not log_watch.new_tracebacks()
    screen.still_receives()


# ---------------------------------------------------------------- what the fuzz found, pinned


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_json_in_another_encoding_is_refused_not_relayed(encoding: str) -> None:
    # Found by the fuzz: `json.loads` takes bytes in UTF-16 and -32 too, decoding lone surrogates as they are, so a
    # V1 binary frame (or a V2 broadcast body) in UTF-16 carried "\ud800" past the lone-surrogate check (item 4):
    # accepted, relayed, then dropped at every receiver's send. Frames are UTF-8 JSON or nothing.
    from kds_backend.realtime.protocol import ProtocolError, Vsn, decode

    message = {"topic": "realtime:x", "event": "broadcast", "payload": {"type": "broadcast", "event": "e"}, "ref": "1"}
    message["payload"]["payload"] = {"name": "\ud800"}
    data = json.dumps(message, ensure_ascii=False).encode(encoding, "surrogatepass")
    with pytest.raises(ProtocolError):
        decode(data, Vsn.V1)
    body = json.dumps({"name": "\ud800"}, ensure_ascii=False).encode(encoding, "surrogatepass")
    with pytest.raises(ProtocolError):
        decode(_user_broadcast_v2("realtime:x", "e", b"", 1, body), Vsn.V2)
