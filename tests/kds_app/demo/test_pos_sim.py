"""The simulated POS: its schedule as pure logic, its sending against a real companion (in-process over ASGI,
and the `kds-pos-sim` command against a `kds-backend serve` process), and its errors."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client.client import KdsApiClient
from api_client.token_provider import StaticTokenProvider, TokenProvider
from kds_app.demo.demo_orders import service
from kds_app.demo.pos_sim import PosSimError, PosSimulator, Schedule, Sent
from kds_backend.app import create_app
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET, token_for
from tests.kds_app.conftest import APIKEY
from tests.live_server import LiveServer

BASE = "http://companion"

# ---------------------------------------------------------------- the schedule (no clock, no loop)


def sent_by(schedule: Schedule, t: float, limit: int = 100_000) -> int:
    """How many orders the schedule has sent by `t` seconds after the start."""
    n = 0
    while n < limit and (at := schedule.offset(n)) is not None and at <= t:
        n += 1
    return n


def test_the_burst_goes_at_once_then_one_order_per_interval() -> None:
    schedule = Schedule(4, burst=3)
    assert [schedule.offset(n) for n in range(6)] == [0, 0, 0, 15, 30, 45]


@pytest.mark.parametrize("rate", [0.5, 4, 30, 600])
@pytest.mark.parametrize("jitter", [0.0, 0.3, 0.49])
def test_the_rate_is_kept_over_any_stretch_of_time(rate: float, jitter: float) -> None:
    schedule = Schedule(rate, burst=4, jitter=jitter, seed=3)
    interval = 60 / rate
    offsets = [schedule.offset(n) for n in range(400)]
    assert offsets == sorted(offsets)  # jitter never swaps two orders
    for minutes in (1, 5, 37):
        t = minutes * 60
        # the burst, plus one per full interval; jitter moves the last one by less than an interval
        assert abs(sent_by(schedule, t) - (4 + t // interval)) <= 1
    if jitter:
        gaps = {round(b - a, 6) for a, b in itertools.pairwise(offsets[4:])}
        assert len(gaps) > 1  # not a metronome...
        assert all(g > interval * (1 - 2 * jitter) - 1e-9 for g in gaps)  # ...but never two at once


def test_the_same_seed_gives_the_same_times() -> None:
    a, b = Schedule(4, jitter=0.3, seed=1), Schedule(4, jitter=0.3, seed=1)
    assert [a.offset(n) for n in range(20)] == [b.offset(n) for n in range(20)]
    assert [a.offset(n) for n in range(20)] != [Schedule(4, jitter=0.3, seed=2).offset(n) for n in range(20)]


def test_count_and_duration_end_the_schedule() -> None:
    assert sent_by(Schedule(60, burst=2, count=5), 1e9) == 5
    assert sent_by(Schedule(60, burst=2, duration_s=10), 1e9) == 2 + 10  # at 1 s, 2 s, ... 10 s
    assert Schedule(60, count=0).offset(0) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"rate_per_min": 0}, {"rate_per_min": -1}, {"rate_per_min": float("nan")}, {"rate_per_min": 4, "burst": 0},
     {"rate_per_min": 4, "count": -1}, {"rate_per_min": 4, "jitter": 0.5}],
)
def test_impossible_schedules_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Schedule(**kwargs)


# ---------------------------------------------------------------- sending, against the companion in-process


Clients = Callable[..., KdsApiClient]


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[Clients]:
    """`clients(tokens, base=BASE)`: a `KdsApiClient` on the companion in-process with the POS's credentials."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'companion.db'}", jwt_secret=JWT_SECRET)
    app = create_app(settings)
    made: list[KdsApiClient] = []

    def make(tokens: TokenProvider, base: str = BASE) -> KdsApiClient:
        made.append(KdsApiClient(base, APIKEY, tokens, transport=httpx.ASGITransport(app=app)))
        return made[-1]

    async with app.router.lifespan_context(app):
        yield make
        for client in made:
            await client.aclose()


async def server_orders(clients: Clients) -> dict[str, dict[str, Any]]:
    rows = await clients(StaticTokenProvider(token_for("admin"))).select("orders", {"select": "*,order_items(*)"})
    return {o["number"]: o for o in rows}


@pytest.mark.parametrize("api", ["intake", "rest"])
async def test_orders_arrive_with_their_items_and_additions(clients: Clients, api: Any) -> None:
    reported: list[Sent] = []
    sim = PosSimulator(
        clients(StaticTokenProvider(token_for("pos"))), api=api, seed=5,
        add_chance=1.0, add_after_s=0.0, report=reported.append,
    )
    summary = await sim.run(Schedule(60, burst=6, count=6))  # all in the burst: nothing to wait for

    expected = service(6, seed=5)  # the same seed sends the same service as the demo's generator
    stored = await server_orders(clients)
    assert sorted(stored) == [o.number for o in expected] == [str(n) for n in range(101, 107)]
    assert summary.orders == 6 and summary.failures == []
    assert summary.additions == 5  # after every order but the first, one earlier order gets more
    assert summary.items == sum(len(o["order_items"]) for o in stored.values())
    for order in expected:
        names = [i["name"] for i in stored[order.number]["order_items"]]
        assert names[: len(order.items)] == [i.name for i in order.items]
        line = stored[order.number]["order_items"][0]
        assert line["station"] == order.items[0].station and line["quantity"] == order.items[0].quantity
    added = [s for s in reported if s.kind == "addition"]
    assert len(added) == 5
    for sent in added:  # the added dishes are on the order they were added to
        names = [i["name"] for i in stored[sent.number]["order_items"]]
        assert {name for _, name, _ in sent.items} <= set(names)
    first = reported[0].line()  # e.g. "    0.1s  order #101 (takeout, Alex K.): 3x Cheeseburger, ... [cold,fry]"
    assert " order #101 (" in first and first.rstrip().endswith("]")


async def test_a_refused_token_stops_with_a_clear_message(clients: Clients) -> None:
    sim = PosSimulator(clients(StaticTokenProvider("not-a-token")))
    with pytest.raises(PosSimError, match=r"refused the POS's credentials: 401 .*kds-backend token"):
        await sim.run(Schedule(60, count=1))
    kds = PosSimulator(clients(StaticTokenProvider(token_for("kds"))))
    with pytest.raises(PosSimError, match="403 a kds device cannot create orders"):
        await kds.run(Schedule(60, count=1))
    assert await server_orders(clients) == {}


async def test_after_a_401_the_token_is_refreshed_and_the_order_sent_once(clients: Clients) -> None:
    class Expiring:
        refreshed: list[str | None] = []

        async def get_token(self) -> str:
            return token_for("pos", ttl_s=-60)  # already expired

        async def refresh(self, rejected: str | None = None) -> str:
            self.refreshed.append(rejected)
            return token_for("pos")

    tokens = Expiring()
    sim = PosSimulator(clients(tokens))
    summary = await sim.run(Schedule(60, count=1))
    assert summary.orders == 1 and len(tokens.refreshed) == 1
    assert list(await server_orders(clients)) == ["101"]


async def test_the_wrong_api_says_which_to_use(clients: Clients) -> None:
    sim = PosSimulator(clients(StaticTokenProvider(token_for("pos")), base=f"{BASE}/nothing"))
    with pytest.raises(PosSimError, match=r"/api/v1/orders does not exist at http://companion/nothing: 404 .*rest"):
        await sim.run(Schedule(60, count=1))


# ---------------------------------------------------------------- the command


def pos_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kds_app.demo.pos_sim", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
def test_the_command_sends_to_a_companion_and_prints_a_line_per_order(companion: LiveServer) -> None:
    done = pos_sim("--url", companion.url, "--jwt-secret", JWT_SECRET, "--restaurant", "r1",
                   "--count", "3", "--burst", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[2] for line in lines if " order #" in line] == ["#101", "#102", "#103"]
    assert lines[-1].startswith("sent 3 orders (") and "failed" not in lines[-1]
    with httpx.Client(base_url=companion.url) as http:
        r = http.get("/rest/v1/orders", params={"select": "number,order_items(name)"},
                     headers={"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin')}"})
    assert sorted(o["number"] for o in r.json()) == ["101", "102", "103"]
    assert all(o["order_items"] for o in r.json())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:1", "--jwt-secret", JWT_SECRET], "cannot reach http://127.0.0.1:1"),
        (["--url", "not a url"], "is not an http(s) URL"),
        (["--url", "http://127.0.0.1:1", "--token", "abc"], "--token needs --anon-key"),
        (["--rate", "0"], "must be more than 0"),
    ],
)
def test_bad_input_exits_non_zero_with_a_message_and_no_traceback(args: list[str], message: str) -> None:
    done = pos_sim(*args, "--count", "1")
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_bad_token_on_a_real_server_exits_2(companion: LiveServer) -> None:
    done = pos_sim("--url", companion.url, "--token", "forged", "--anon-key", APIKEY, "--count", "1")
    assert done.returncode == 2
    assert "refused the POS's credentials: 401" in done.stderr and "Traceback" not in done.stderr
