"""The schedule: a pure function of the seed (sans-I/O). `generate(seed)` returns the same steps every time;
`tests.faults.runner` carries them out. Nothing here touches a process, a socket or a clock.

A schedule has a chaos phase (POS traffic, taps and faults at planned offsets) and then a liveness phase
(everything healed, every down process restarted, convergence awaited within `LIVENESS_S`).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

BACKENDS = ("sqlite", "postgres")
STATIONS = ("grill", "fry", "cold")
LIVENESS_S = 30.0
"""After the heal, every screen must have converged (store = server, outbox drained) within this many seconds."""

FAULT_CLASSES = (
    "cut",  # every connection of one screen closed
    "partition",  # one screen blackholed (silent), then healed
    "delay",  # one screen's link slowed
    "ws_dup",  # websocket frames to one screen duplicated
    "ws_reorder",  # websocket frames to one screen reordered
    "lost_reply",  # apply_intents answers swallowed after the server committed
    "server_term",  # companion SIGTERM + restart
    "server_kill",  # companion SIGKILL + restart
    "screen_kill",  # a screen kill -9, restarted on the same data dir
    "token_expiry",  # short access-token TTL: refreshes and expiries during faults
    "offline_taps",  # taps made while that screen could not reach the server
    "admin_delete",  # orders deleted by an admin while screens are cut off or not
)


@dataclass(frozen=True)
class ScreenSpec:
    index: int
    role: str  # kds | expo
    stations: tuple[str, ...]
    qt: bool = False


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the chaos phase starts
    kind: str
    target: int | None = None  # a screen index
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    seed: int
    backend: str
    screens: tuple[ScreenSpec, ...]
    steps: tuple[Step, ...]
    chaos_s: float
    token_ttl_s: int
    refresh_margin_s: float
    classes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def generate(
    seed: int,
    *,
    backend: str | None = None,
    qt: bool = True,
    chaos_s: float | None = None,
    screens: int | None = None,
    force: tuple[str, ...] = (),
) -> Schedule:
    """The schedule for `seed`. `backend`/`qt`/`chaos_s`/`screens` override what the seed would pick; `force`
    adds at least one fault of each named class (planted-bug runs use it to make sure the bug can show)."""
    rng = random.Random(seed)
    picked_backend = rng.choice(BACKENDS)
    backend = backend or picked_backend
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    n_screens = rng.randint(3, 5)
    n_screens = screens or n_screens
    chaos = rng.uniform(15.0, 30.0)
    chaos = chaos_s or chaos
    short_tokens = rng.random() < 0.4
    specs = _screens(rng, n_screens, qt)
    steps: list[Step] = []
    classes: set[str] = set()

    # ---------------- the POS: orders, additions, voids, cancels, admin deletes
    t = 0.0
    n_orders = 0
    while t < chaos:
        r = rng.random()
        if n_orders < 3 or r < 0.45:
            steps.append(Step(t, "pos_order", args={"n": n_orders, "items": _items(rng), "seed": rng.getrandbits(32)}))
            n_orders += 1
        elif r < 0.6:
            steps.append(Step(t, "pos_add_items", args={"pick": rng.random(), "items": _items(rng, 1, 2)}))
        elif r < 0.75:
            steps.append(Step(t, "pos_void_item", args={"pick": rng.random(), "pick_item": rng.random()}))
        elif r < 0.85:
            steps.append(Step(t, "pos_cancel", args={"pick": rng.random()}))
        else:
            steps.append(Step(t, "admin_delete", args={"pick": rng.random()}))
            classes.add("admin_delete")
        t += rng.uniform(0.4, 2.0) if n_orders >= 3 else 0.2

    # ---------------- taps
    for spec in specs:
        t = rng.uniform(0.5, 1.5)
        while t < chaos:
            steps.append(Step(t, "tap", spec.index, {"count": rng.randint(1, 3), "seed": rng.getrandbits(32)}))
            t += rng.uniform(0.3, 1.5)

    # ---------------- faults: each a (start, end) window on one screen or on the server
    wanted = list(force)
    n_faults = rng.randint(2, 6)
    network = ("cut", "partition", "delay", "ws_dup", "ws_reorder", "lost_reply")
    pool = (*network, *network, "server_term", "server_kill", "server_kill", "screen_kill", "screen_kill")
    while n_faults > 0 or wanted:
        kind = wanted.pop() if wanted else rng.choice(pool)
        n_faults -= 1
        start = rng.uniform(1.0, max(1.5, chaos - 3.0))
        length = rng.uniform(1.0, min(10.0, chaos))
        screen = rng.randrange(n_screens)
        classes.add(kind)
        if kind == "admin_delete":
            steps.append(Step(start, "admin_delete", args={"pick": rng.random()}))
        elif kind == "cut":
            for k in range(rng.randint(1, 3)):
                steps.append(Step(start + k * rng.uniform(0.2, 2.0), "proxy", screen, {"mode": "cut"}))
        elif kind == "partition":
            steps.append(Step(start, "proxy", screen, {"mode": "blackhole"}))
            steps.append(Step(start + length, "proxy", screen, {"mode": "heal"}))
        elif kind == "delay":
            steps.append(Step(start, "proxy", screen, {"mode": "delay", "s": round(rng.uniform(0.05, 0.8), 3)}))
            steps.append(Step(start + length, "proxy", screen, {"mode": "heal"}))
        elif kind in ("ws_dup", "ws_reorder"):
            p = round(rng.uniform(0.2, 0.9), 2)
            steps.append(Step(start, "proxy", screen, {"mode": kind, "p": p}))
            steps.append(Step(start + length, "proxy", screen, {"mode": "heal"}))
        elif kind == "lost_reply":
            steps.append(Step(start, "proxy", screen, {"mode": "lost_reply", "n": rng.randint(1, 3)}))
            steps.append(Step(start + length, "proxy", screen, {"mode": "heal"}))
        elif kind in ("server_term", "server_kill"):
            down = rng.uniform(0.5, 5.0)
            steps.append(Step(start, "server_stop", args={"signal": "term" if kind == "server_term" else "kill"}))
            steps.append(Step(start + down, "server_start"))
        elif kind == "screen_kill":
            down = rng.uniform(0.3, 4.0)
            steps.append(Step(start, "screen_kill", screen))
            steps.append(Step(start + down, "screen_start", screen))
    steps.sort(key=lambda s: (s.at, _ORDER[s.kind]))
    steps = _drop_overlaps(steps)
    if short_tokens:
        classes.add("token_expiry")
    if _offline_taps(steps):
        classes.add("offline_taps")
    return Schedule(
        seed=seed,
        backend=backend,
        screens=tuple(specs),
        steps=tuple(steps),
        chaos_s=round(chaos, 3),
        token_ttl_s=20 if short_tokens else 3600,
        refresh_margin_s=5.0 if short_tokens else 60.0,
        classes=tuple(sorted(classes)),
    )


_ORDER = {
    "server_stop": 0, "server_start": 1, "screen_kill": 2, "screen_start": 3, "proxy": 4, "pos_order": 5,
    "pos_add_items": 6, "pos_void_item": 7, "pos_cancel": 8, "admin_delete": 9, "tap": 10,
}


def _screens(rng: random.Random, n: int, qt: bool) -> list[ScreenSpec]:
    specs = [ScreenSpec(0, "kds", ("grill",), qt=qt), ScreenSpec(1, "expo", ()), ScreenSpec(2, "kds", ("fry",))]
    extra = [("kds", ("grill",)), ("kds", ("cold",)), ("kds", ("grill", "fry")), ("expo", ())]
    for i in range(3, n):
        role, stations = rng.choice(extra)
        specs.append(ScreenSpec(i, role, stations))
    return specs


def _items(rng: random.Random, lo: int = 1, hi: int = 4) -> list[dict[str, Any]]:
    names = {"grill": ["Burger", "Steak", "Chicken"], "fry": ["Fries", "Calamari"], "cold": ["Salad", "Oysters"]}
    items = []
    for _ in range(rng.randint(lo, hi)):
        station = rng.choice(STATIONS)
        items.append({"name": rng.choice(names[station]), "station": station, "quantity": rng.randint(1, 3)})
    return items


def _drop_overlaps(steps: list[Step]) -> list[Step]:
    """The server has one life at a time, and so has each screen: a stop inside a down window is dropped with
    its start, so every window is (stop, start) in order. Deterministic: it only reads the sorted steps."""
    out: list[Step] = []
    server_down = False
    down_screens: set[int] = set()
    skip_start_server = 0
    skip_start_screen: dict[int, int] = {}
    for step in steps:
        if step.kind == "server_stop":
            if server_down:
                skip_start_server += 1
                continue
            server_down = True
        elif step.kind == "server_start":
            if skip_start_server:
                skip_start_server -= 1
                continue
            server_down = False
        elif step.kind == "screen_kill":
            assert step.target is not None
            if step.target in down_screens:
                skip_start_screen[step.target] = skip_start_screen.get(step.target, 0) + 1
                continue
            down_screens.add(step.target)
        elif step.kind == "screen_start":
            assert step.target is not None
            if skip_start_screen.get(step.target):
                skip_start_screen[step.target] -= 1
                continue
            down_screens.discard(step.target)
        elif step.kind == "tap" and step.target in down_screens:
            continue  # nobody taps a screen that is off
        out.append(step)
    return out


def _offline_taps(steps: list[Step]) -> bool:
    """Whether a tap falls on a screen that is blackholed, or while the server is down."""
    server_down = False
    holed: set[int] = set()
    for step in steps:
        if step.kind == "server_stop":
            server_down = True
        elif step.kind == "server_start":
            server_down = False
        elif step.kind == "proxy" and step.args.get("mode") == "blackhole":
            holed.add(step.target)  # type: ignore[arg-type]
        elif step.kind == "proxy" and step.args.get("mode") == "heal":
            holed.discard(step.target)  # type: ignore[arg-type]
        elif step.kind == "tap" and (server_down or step.target in holed):
            return True
    return False
