"""The schedule: a pure function of the seed (sans-I/O). `generate(seed)` returns the same steps every time;
`tests.faults.runner` carries them out. Nothing here touches a process, a socket or a clock.

A schedule has a chaos phase (POS traffic, taps and faults at planned offsets) and then a liveness phase
(everything healed, every down process restarted, convergence awaited within `LIVENESS_S`).

The hub tier: a schedule may put a kitchen hub (`kds-backend serve --upstream`) between some or all screens and the
companion, which then is its upstream. Whether it does, which screens sit on the hub's LAN, a POS on the LAN and the
hub's own faults are drawn from a second generator (`_hub_rng`), so a schedule without the hub is step for step
what it was before the tier existed, and `hub=True` gives the same schedule as a seed that picks the hub itself.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, replace
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
    "hub",  # a kitchen hub between some screens and the companion (its upstream)
    "hub_link",  # the hub's internet link cut, blackholed, slowed, or its websocket frames duplicated/reordered
    "hub_kill",  # the hub SIGKILLed (or SIGTERMed) and restarted on its data dir, possibly while its link is down
    "hub_lost_reply",  # upstream's answers to the hub's forwards (apply_intents, POS writes) swallowed
    "lan_pos",  # a POS on the kitchen LAN writing at the hub (forwarded upstream)
)
HUB_CLASSES = ("hub_link", "hub_kill", "hub_lost_reply", "lan_pos")
HUB_P = 0.3
"""How often a seed picks the hub tier by itself (`hub=True` forces it, `hub=False` leaves it out)."""


@dataclass(frozen=True)
class ScreenSpec:
    index: int
    role: str  # kds | expo
    stations: tuple[str, ...]
    qt: bool = False
    hub: bool = False  # on the kitchen hub's LAN (its proxy leads to the hub), else straight on the companion


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
    hub: bool = False  # a hub companion in front of the companion (see the module doc)

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
    hub: bool | None = None,
    lan_pos: bool | None = None,
) -> Schedule:
    """The schedule for `seed`. `backend`/`qt`/`chaos_s`/`screens`/`hub` override what the seed would pick; `force`
    adds at least one fault of each named class (planted-bug runs use it to make sure the bug can show; a hub
    class, or `hub_kill_offline`, a hub kill inside a link outage, brings the hub tier). `lan_pos=False` leaves the
    LAN POS out of a hub schedule (its other steps stay as the seed made them), `True` puts it in."""
    hub_force = tuple(f for f in force if f in HUB_CLASSES or f == "hub_kill_offline")
    force = tuple(f for f in force if f not in hub_force)
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
    # ---------------- the hub tier (its own generator: see the module doc)
    hrng = _hub_rng(seed)
    on_hub = _hub_pick(hrng)
    on_hub = on_hub if hub is None else hub
    on_hub = on_hub or bool(hub_force)
    if on_hub:
        classes.add("hub")
        specs = _hub_screens(hrng, specs)
        steps += _hub_steps(hrng, chaos, list(hub_force) + (["lan_pos"] if lan_pos else []), classes,
                            lan_pos is not False)
    steps.sort(key=lambda s: (s.at, _ORDER[s.kind]))
    steps = _drop_overlaps(steps)
    if short_tokens:
        classes.add("token_expiry")
    if _offline_taps(steps, specs):
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
        hub=on_hub,
    )


_ORDER = {
    "server_stop": 0, "server_start": 1, "hub_stop": 2, "hub_start": 3, "screen_kill": 4, "screen_start": 5,
    "proxy": 6, "hub_proxy": 7, "pos_order": 8, "pos_add_items": 9, "pos_void_item": 10, "pos_cancel": 11,
    "admin_delete": 12, "lan_order": 13, "lan_add_items": 14, "lan_void_item": 15, "lan_cancel": 16, "tap": 17,
}


# ---------------------------------------------------------------- the hub tier


def _hub_rng(seed: int) -> random.Random:
    return random.Random(f"hub-tier-{seed}")  # a str seed is hashed the same way in every run (random's version 2)


def _hub_pick(hrng: random.Random) -> bool:
    return hrng.random() < HUB_P


def hub_picked(seed: int) -> bool:
    """Whether `seed` picks the hub tier by itself (a replay line says --hub/--no-hub only when it differs)."""
    return _hub_pick(_hub_rng(seed))


def _hub_screens(hrng: random.Random, specs: list[ScreenSpec]) -> list[ScreenSpec]:
    """Some or all screens on the hub's LAN, at least one; the others stay on the companion (the internet)."""
    lan = [hrng.random() < 0.65 for _ in specs]
    if not any(lan):
        lan[hrng.randrange(len(specs))] = True
    return [replace(spec, hub=on) for spec, on in zip(specs, lan, strict=True)]


def _hub_steps(hrng: random.Random, chaos: float, wanted: list[str], classes: set[str], lan_pos: bool) -> list[Step]:
    steps: list[Step] = []
    # A POS on the LAN, now and then: its orders, added lines, voids and cancels are applied at the hub and
    # forwarded upstream. It works on its own orders (the companion's POS on its own), so a write upstream can
    # never be refused for good because the other POS deleted the order under it.
    if hrng.random() < 0.6 or "lan_pos" in wanted:
        if lan_pos:
            classes.add("lan_pos")
        t, n = hrng.uniform(0.3, 2.0), 0
        while t < chaos:
            r = hrng.random()
            if n < 2 or r < 0.45:
                steps.append(Step(t, "lan_order", args={"n": n, "items": _items(hrng), "seed": hrng.getrandbits(32)}))
                n += 1
            elif r < 0.7:
                steps.append(Step(t, "lan_add_items", args={"pick": hrng.random(), "items": _items(hrng, 1, 2)}))
            elif r < 0.9:
                steps.append(Step(t, "lan_void_item", args={"pick": hrng.random(), "pick_item": hrng.random()}))
            else:
                steps.append(Step(t, "lan_cancel", args={"pick": hrng.random()}))
            t += hrng.uniform(0.8, 3.0)
        if not lan_pos:  # drawn all the same, so the hub's faults are the seed's either way
            steps = []
    wanted = [w for w in wanted if w != "lan_pos"]
    n_faults = hrng.randint(1, 4)
    pool = ("hub_link", "hub_link", "hub_link", "hub_kill", "hub_kill", "hub_lost_reply", "hub_lost_reply")
    while n_faults > 0 or wanted:
        kind = wanted.pop() if wanted else hrng.choice(pool)
        n_faults -= 1
        start = hrng.uniform(1.0, max(1.5, chaos - 3.0))
        length = hrng.uniform(1.0, min(10.0, chaos))
        if kind == "hub_link":
            classes.add(kind)
            mode = hrng.choice(("cut", "blackhole", "blackhole", "delay", "ws_dup", "ws_reorder"))
            if mode == "cut":
                for k in range(hrng.randint(1, 3)):
                    steps.append(Step(start + k * hrng.uniform(0.2, 2.0), "hub_proxy", args={"mode": "cut"}))
                continue
            args: dict[str, Any] = {"mode": mode}
            if mode == "delay":
                args["s"] = round(hrng.uniform(0.05, 0.8), 3)
            elif mode in ("ws_dup", "ws_reorder"):
                args["p"] = round(hrng.uniform(0.2, 0.9), 2)
            steps.append(Step(start, "hub_proxy", args=args))
            steps.append(Step(start + length, "hub_proxy", args={"mode": "heal"}))
        elif kind == "hub_lost_reply":
            classes.add(kind)
            what = hrng.choice(("intents", "intents", "writes"))
            steps.append(Step(start, "hub_proxy", args={"mode": "lost_reply", "n": hrng.randint(1, 3), "what": what}))
            steps.append(Step(start + length, "hub_proxy", args={"mode": "heal"}))
        elif kind in ("hub_kill", "hub_kill_offline"):
            classes.add("hub_kill")
            down = hrng.uniform(0.5, 4.0)
            how = "term" if hrng.random() < 0.2 else "kill"
            offline = kind == "hub_kill_offline" or hrng.random() < 0.4
            if offline:  # killed while its internet is down: taps queued for upstream when it dies
                classes.add("hub_link")
                how = "kill"
                steps.append(Step(max(0.5, start - hrng.uniform(1.5, 3.0)), "hub_proxy", args={"mode": "blackhole"}))
                steps.append(Step(start + down + hrng.uniform(0.5, 3.0), "hub_proxy", args={"mode": "heal"}))
            steps.append(Step(start, "hub_stop", args={"signal": how}))
            steps.append(Step(start + down, "hub_start"))
        else:
            raise ValueError(f"unknown hub fault class {kind!r}")
    return steps


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
    hub_down = False
    skip_start_hub = 0
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
        elif step.kind == "hub_stop":
            if hub_down:
                skip_start_hub += 1
                continue
            hub_down = True
        elif step.kind == "hub_start":
            if skip_start_hub:
                skip_start_hub -= 1
                continue
            hub_down = False
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


def _offline_taps(steps: list[Step], specs: list[ScreenSpec]) -> bool:
    """Whether a tap falls on a screen that is blackholed, or while its server (the companion, or the hub for a
    screen on the hub's LAN) is down. A hub screen's tap while only the hub's internet is down is not offline."""
    on_hub = {s.index for s in specs if s.hub}
    server_down = hub_down = False
    holed: set[int] = set()
    for step in steps:
        if step.kind == "server_stop":
            server_down = True
        elif step.kind == "server_start":
            server_down = False
        elif step.kind == "hub_stop":
            hub_down = True
        elif step.kind == "hub_start":
            hub_down = False
        elif step.kind == "proxy" and step.args.get("mode") == "blackhole":
            holed.add(step.target)  # type: ignore[arg-type]
        elif step.kind == "proxy" and step.args.get("mode") == "heal":
            holed.discard(step.target)  # type: ignore[arg-type]
        elif step.kind == "tap" and (
            step.target in holed or (hub_down if step.target in on_hub else server_down)
        ):
            return True
    return False
