"""A screen's channel tracks itself in Realtime presence once live, and again after every rejoin, so the server
knows it is online (the companion's backup printer prints a station's tickets only while none of its screens is)."""

from __future__ import annotations

import pytest

from sync.realtime.frames import Vsn
from sync.realtime.phoenix import ChannelLive, PhoenixClient

from .test_phoenix import SPEC, SUBSCRIBED, TOPIC, join_reply, sent, server


def live_frames(c: PhoenixClient, now: float, vsn: Vsn) -> list[dict]:
    [join] = sent(c.on_open(now), vsn)
    assert sent(c.receive(join_reply(join["ref"], vsn=vsn), now), vsn) == []
    out = c.receive(server(vsn, "system", SUBSCRIBED, join_ref=join["ref"]), now)
    assert any(isinstance(o, ChannelLive) for o in out)
    return [{**f, "join": join["ref"]} for f in sent(out, vsn)]


@pytest.mark.parametrize("vsn", list(Vsn))
def test_a_live_channel_tracks_its_presence_and_again_after_a_rejoin(vsn: Vsn) -> None:
    c = PhoenixClient([SPEC], "TOKEN", vsn=vsn, presence={"screen": "grill-1"})
    for now in (0.0, 31.0):
        [track] = live_frames(c, now, vsn)
        assert track["topic"] == TOPIC and track["event"] == "presence"
        assert track["payload"] == {"type": "presence", "event": "track", "payload": {"screen": "grill-1"}}
        if vsn is Vsn.V2:
            assert track["join_ref"] == track["join"]
        c.on_close(now + 30.0)


def test_without_presence_a_live_channel_sends_nothing() -> None:
    c = PhoenixClient([SPEC], "TOKEN", vsn=Vsn.V1)
    assert live_frames(c, 0.0, Vsn.V1) == []
