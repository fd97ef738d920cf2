"""`kds-pos-sim`: a simulated POS that sends a realistic service to a companion or a Supabase project.

The orders come from `demo_orders` (seeded: the same seed sends the same dishes). Now and then a table
orders more after its ticket went to the kitchen, so the screens show "changed after send". Two dialects:

* `intake` (the companion): `POST /api/v1/orders` with nested items and an `Idempotency-Key`, and
  `POST /api/v1/orders/{id}/items` for additions;
* `rest` (a Supabase project, or the companion's Data API): `POST /rest/v1/orders`, then the lines with
  `POST /rest/v1/order_items`, as a POS integration writes rows under RLS.

`PosSimulator` is the one sender, and it sends through the project's one HTTP client (`api_client.KdsApiClient`:
its token handling, its retry after a 401, its typed errors): `kds --demo` runs it on the Qt loop against the
embedded companion, the command runs it on plain asyncio. Qt-free, and free of `kds_backend`, on purpose: the
command mints a companion's tokens with `api_client.token_minting` (tests/kds_app/test_layers.py pins it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from api_client.client import KdsApiClient
from api_client.data_dir import data_dir, persisted_secret
from api_client.errors import ApiError, ClientError, TransportFailure
from api_client.models import DeviceRole, OrderInsert, OrderIntake, OrderItemInsert, OrderItemsAddition
from api_client.token_minting import MintingTokenProvider, issue_anon_key
from api_client.token_provider import StaticTokenProvider, TokenProvider

from .demo_orders import random_addition, random_order

__all__ = ["Api", "PosSimError", "PosSimulator", "Schedule", "SendFailed", "Summary", "main"]

Api = Literal["intake", "rest"]
DEFAULT_URL = "http://127.0.0.1:8000"
REQUEST_TIMEOUT_S = 10.0
# The companion flags lines added more than 10 s after the order arrived (kds_backend.orders.CHANGE_GRACE) as
# changes; additions go to orders older than that so the screens really show them as changes.
ADD_AFTER_S = 15.0
RECENT_ORDERS = 8  # additions go to one of the last few orders: those are still on the screens
T = TypeVar("T")


class PosSimError(Exception):
    """The simulation cannot go on (bad URL, refused token, wrong API); the message says what to fix."""


class SendFailed(Exception):
    """One request failed. `fatal`: retrying cannot help (the token or the address is wrong)."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


# ---------------------------------------------------------------- when orders go out (pure logic)


@dataclass(frozen=True)
class Schedule:
    """When each order goes out, in seconds after the start: `burst` orders at once, then `rate_per_min`.

    Order `n` after the burst belongs to slot `k = n - burst + 1` and goes at `k * interval`, moved by at most
    `jitter` of an interval (seeded, per slot): a kitchen's orders do not arrive like a metronome, but the
    average rate is exact and, with jitter below half an interval, the order of the slots is kept. The
    schedule ends after `count` orders or once an order would go later than `duration_s`.
    """

    rate_per_min: float
    burst: int = 1
    count: int | None = None
    duration_s: float | None = None
    jitter: float = 0.0
    seed: int = 7

    def __post_init__(self) -> None:
        if not self.rate_per_min > 0:
            raise ValueError("the rate must be more than 0 orders per minute")
        if self.burst < 1:
            raise ValueError("the burst must be at least 1 order")
        if self.count is not None and self.count < 0:
            raise ValueError("the count must not be negative")
        if self.duration_s is not None and self.duration_s < 0:
            raise ValueError("the duration must not be negative")
        if not 0 <= self.jitter < 0.5:
            raise ValueError("the jitter must be at least 0 and less than half an interval (0.5)")

    @property
    def interval_s(self) -> float:
        return 60.0 / self.rate_per_min

    def offset(self, n: int) -> float | None:
        """Seconds after the start when order `n` (from 0) goes; None when the schedule has ended before it."""
        if self.count is not None and n >= self.count:
            return None
        slot = max(0, n - self.burst + 1)
        at = slot * self.interval_s
        if slot and self.jitter:
            at += random.Random(f"{self.seed}:{slot}").uniform(-self.jitter, self.jitter) * self.interval_s
        if self.duration_s is not None and at > self.duration_s:
            return None
        return at


# ---------------------------------------------------------------- what was sent


@dataclass(frozen=True)
class Sent:
    """One order or addition the server accepted; `line()` is what the command prints."""

    kind: Literal["order", "addition"]
    number: str
    order_id: UUID
    items: tuple[tuple[int, str, str], ...]  # (quantity, name, station)
    at_s: float
    detail: str = ""

    def line(self) -> str:
        dishes = ", ".join(f"{q}x {name}" if q > 1 else name for q, name, _ in self.items)
        stations = ",".join(sorted({s for _, _, s in self.items}))
        what = "order" if self.kind == "order" else "  + added to"
        detail = f" {self.detail}" if self.detail else ""
        return f"{self.at_s:7.1f}s  {what} #{self.number}{detail}: {dishes}  [{stations}]"


@dataclass
class Summary:
    orders: int = 0
    items: int = 0
    additions: int = 0
    failures: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def line(self) -> str:
        failed = f"; {len(self.failures)} failed" if self.failures else ""
        return (
            f"sent {self.orders} orders ({self.items} items) and {self.additions} additions "
            f"in {self.elapsed_s:.1f} s{failed}"
        )


# ---------------------------------------------------------------- the sender


class PosSimulator:
    """Sends orders through `client` (a `KdsApiClient`: its base URL is the server, its token provider the POS's
    credentials; after a 401 it refreshes once and resends with the same idempotency key)."""

    def __init__(
        self,
        client: KdsApiClient,
        *,
        api: Api = "intake",
        seed: int = 7,
        first_number: int = 101,
        add_chance: float = 0.3,
        add_after_s: float = ADD_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        report: Callable[[Sent], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.client, self.api = client, api
        self._orders_rng = random.Random(seed)  # the same seed sends what `demo_orders.service(seed=...)` makes
        self._timing_rng = random.Random(f"{seed}:additions")
        self.next_number = first_number
        self.add_chance, self.add_after_s = add_chance, add_after_s
        self._clock = clock
        self._report = report
        self._on_failure = on_failure
        self._recent: list[tuple[float, str, UUID]] = []  # (sent at, number, id)
        self._stop = asyncio.Event()
        self._start = clock()

    def stop(self) -> None:
        """Ends `run()` at its next wait (an order being sent is finished first)."""
        self._stop.set()

    # ------------------------------------------------------------ one order

    async def send_order(self, order: OrderIntake) -> UUID:
        """Send one order with its lines; the id the server keeps. `SendFailed` if it was not taken."""
        if self.api == "intake":
            created = await self._sent("/api/v1/orders", self.client.create_order(order, str(uuid.uuid4())))
            return created.id
        order_id = order.id or uuid.uuid4()  # ours: a retried insert cannot make a second order
        row = OrderInsert(**order.model_dump(exclude={"id", "items"}), id=order_id)
        await self._sent(
            "/rest/v1/orders", self.client.insert_rows("orders", [row.model_dump(mode="json", exclude_none=True)])
        )
        rows = self._rows(order_id, order.items, changed=False)
        await self._sent("/rest/v1/order_items", self.client.insert_rows("order_items", rows))
        return order_id

    async def add_items(self, order_id: UUID, addition: OrderItemsAddition) -> None:
        """A table orders more: the lines are added to an order the kitchen already has."""
        if self.api == "intake":
            path = f"/api/v1/orders/{order_id}/items"
            await self._sent(path, self.client.add_items(order_id, addition, str(uuid.uuid4())))
        else:
            # changed_after_send left out: the database decides, as it does for any POS (trigger / companion).
            rows = self._rows(order_id, addition.items, changed=None)
            await self._sent("/rest/v1/order_items", self.client.insert_rows("order_items", rows))

    @staticmethod
    def _rows(order_id: UUID, items: Sequence[Any], *, changed: bool | None) -> list[dict[str, Any]]:
        rows = []
        for item in items:
            if item.station is None:
                raise ValueError(f"{item.name}: the Data API has no category routing, every line needs a station")
            fields = item.model_dump(exclude={"id", "category"})
            rows.append(
                OrderItemInsert(**fields, order_id=order_id, changed_after_send=changed).model_dump(
                    mode="json", exclude_none=True
                )
            )
        return rows

    async def _sent(self, path: str, call: Awaitable[T]) -> T:
        """What `call` answered; its failure as a `SendFailed` that says what to fix."""
        try:
            return await call
        except httpx.InvalidURL as exc:
            raise SendFailed(f"bad URL {self.client.base_url}: {exc}", fatal=True) from exc
        except ClientError as exc:
            raise _failure(path, self.client.base_url, exc) from exc

    # ------------------------------------------------------------ a service

    async def run(self, schedule: Schedule) -> Summary:
        """Send orders on `schedule` until it ends or `stop()`. A failure before the first order went through
        (or one that retrying cannot fix) raises `PosSimError`; later ones are counted and the service goes on."""
        summary = Summary()
        self._start = self._clock()
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            n = 0
            while not self._stop.is_set():
                offset = schedule.offset(n)
                if offset is None:
                    break
                delay = self._start + offset - self._clock()
                if delay > 0:
                    await asyncio.wait({stopped}, timeout=delay)
                    if self._stop.is_set():
                        break
                n += 1
                await self._one(summary)
        finally:
            stopped.cancel()
            # Its end awaited, so a service that failed before the waiter ever ran leaves no coroutine unawaited.
            await asyncio.wait({stopped})
            summary.elapsed_s = self._clock() - self._start
        return summary

    async def _one(self, summary: Summary) -> None:
        order = random_order(self._orders_rng, self.next_number)
        self.next_number += 1
        try:
            order_id = await self.send_order(order)
        except SendFailed as exc:
            self._failed(summary, f"order #{order.number}: {exc}", fatal=exc.fatal or summary.orders == 0)
            return
        now = self._clock()
        summary.orders += 1
        summary.items += len(order.items)
        self._recent = [*self._recent[-(RECENT_ORDERS - 1):], (now, order.number, order_id)]
        detail = _order_detail(order)
        self._tell(Sent("order", order.number, order_id, _lines(order.items), now - self._start, detail))
        await self._maybe_add(summary, now)

    async def _maybe_add(self, summary: Summary, now: float) -> None:
        old_enough = [r for r in self._recent[:-1] if now - r[0] >= self.add_after_s]
        if not old_enough or self._timing_rng.random() >= self.add_chance:
            return
        _, number, order_id = self._timing_rng.choice(old_enough)
        addition = random_addition(self._timing_rng)
        try:
            await self.add_items(order_id, addition)
        except SendFailed as exc:
            if exc.fatal:
                self._failed(summary, f"addition to #{number}: {exc}", fatal=True)
            # Otherwise (e.g. 409: the order was served meanwhile) a real table would just order anew; so
            # does the simulation, quietly: the next addition picks another order.
            self._recent = [r for r in self._recent if r[2] != order_id]
            return
        summary.additions += 1
        summary.items += len(addition.items)
        self._tell(Sent("addition", number, order_id, _lines(addition.items), self._clock() - self._start))

    def _failed(self, summary: Summary, message: str, *, fatal: bool) -> None:
        if fatal:
            raise PosSimError(message)
        summary.failures.append(message)
        if self._on_failure is not None:
            self._on_failure(message)

    def _tell(self, sent: Sent) -> None:
        if self._report is not None:
            self._report(sent)


def _lines(items: Sequence[Any]) -> tuple[tuple[int, str, str], ...]:
    return tuple((i.quantity, i.name, i.station or "?") for i in items)


def _order_detail(order: OrderIntake) -> str:
    where = f"table {order.table_label}" if order.table_label else (order.customer_name or "")
    return f"({order.type.value.replace('_', '-')}{', ' + where if where else ''})"


def _failure(path: str, base_url: str, exc: ClientError) -> SendFailed:
    if isinstance(exc, TransportFailure):
        return SendFailed(f"cannot reach {base_url}: {str(exc.cause) or type(exc.cause).__name__}", fatal=False)
    if not isinstance(exc, ApiError):  # an answer off the dialect: a proxy page, a server half up
        return SendFailed(f"{path}: {exc}", fatal=False)
    reason = f"{exc.status} {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    if exc.status in (401, 403):
        return SendFailed(
            f"the server refused the POS's credentials: {reason}. A pos token comes from "
            "`kds-backend token --restaurant RESTAURANT --role pos` (companion) or a pos device's sign-in "
            "(Supabase); the anon key must be the server's.",
            fatal=True,
        )
    if exc.status in (404, 405) and path in ("/api/v1/orders", "/rest/v1/orders", "/rest/v1/order_items"):
        return SendFailed(
            f"{path} does not exist at {base_url}: {reason}. "
            "Is the URL a KDS companion? For a Supabase project use --api rest.",
            fatal=True,
        )
    return SendFailed(f"{path}: {reason}", fatal=False)


# ---------------------------------------------------------------- the command


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL, e.g. {DEFAULT_URL}")
    return value.rstrip("/")


def _positive(kind: type[float] | type[int]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if number <= 0:
            raise argparse.ArgumentTypeError(f"{value} must be more than 0")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kds-pos-sim",
        description="A simulated POS: sends a realistic service of orders to a KDS companion or a Supabase project.",
        epilog="Credentials: --token (a pos device's access token) with --anon-key; or, for a companion, "
        "--jwt-secret (default: KDS_JWT_SECRET, else the secret kds-backend keeps in KDS_DATA_DIR, as "
        "`kds-backend token` does) to mint both. Ctrl-C stops and prints the summary.",
    )
    parser.add_argument("--url", type=_url, default=DEFAULT_URL, help=f"the server (default {DEFAULT_URL})")
    parser.add_argument("--rate", type=_positive(float), default=4.0, metavar="ORDERS_PER_MIN",
                        help="orders per minute (default 4)")
    parser.add_argument("--count", type=_positive(int), help="stop after this many orders")
    parser.add_argument("--duration", type=_positive(float), metavar="SECONDS", help="stop after this long")
    parser.add_argument("--burst", type=_positive(int), default=1, help="orders sent at once at the start (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="the same seed sends the same orders (default 7)")
    parser.add_argument("--first-number", type=_positive(int), default=101, help="first order number (default 101)")
    parser.add_argument("--api", choices=["auto", "intake", "rest"], default="auto",
                        help="intake: the companion's POS API; rest: Data API rows (Supabase); "
                        "auto: rest for *.supabase.co, else intake")
    parser.add_argument("--token", help="a pos (or admin) device's access token")
    parser.add_argument("--anon-key", help="the server's anon key (the apikey header)")
    parser.add_argument("--jwt-secret", help="a companion's JWT secret: mint the pos token and anon key from it")
    parser.add_argument("--restaurant", default="local",
                        help="restaurant of a minted token (default: local, the embedded companion's)")
    return parser


def _credentials(args: argparse.Namespace) -> tuple[str, TokenProvider]:
    if args.token:
        if not args.anon_key:
            raise PosSimError("--token needs --anon-key (the server's anon key, sent as the apikey header)")
        return args.anon_key, StaticTokenProvider(args.token)
    # Minting: the same secret and token shape as `kds-backend token --role pos`.
    secret = args.jwt_secret or os.environ.get("KDS_JWT_SECRET") or persisted_secret(data_dir())
    if len(secret) < 32:
        raise PosSimError("the JWT secret must be at least 32 characters")
    provider = MintingTokenProvider(
        secret, restaurant_id=args.restaurant, role=DeviceRole.pos, device_id=f"pos-sim-{uuid.uuid4().hex[:8]}"
    )
    return args.anon_key or issue_anon_key(secret), provider


async def _simulate(args: argparse.Namespace) -> Summary:
    anon_key, tokens = _credentials(args)
    api: Api = args.api if args.api != "auto" else (
        "rest" if (urlsplit(args.url).hostname or "").endswith(".supabase.co") else "intake"
    )
    schedule = Schedule(args.rate, burst=args.burst, count=args.count, duration_s=args.duration, jitter=0.3,
                        seed=args.seed)
    async with KdsApiClient(args.url, anon_key, tokens, timeout=REQUEST_TIMEOUT_S) as client:
        sim = PosSimulator(
            client, api=api, seed=args.seed, first_number=args.first_number,
            report=lambda sent: print(sent.line(), flush=True),  # noqa: T201 - the command's output
            on_failure=lambda message: print(f"failed: {message}", file=sys.stderr, flush=True),  # noqa: T201
        )
        print(f"POS simulator → {args.url} ({api}), {args.rate:g} orders/min; Ctrl-C stops", flush=True)  # noqa: T201
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, sim.stop)
        try:
            return await sim.run(schedule)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = asyncio.run(_simulate(args))
    except (PosSimError, ValueError, OSError) as exc:
        print(f"kds-pos-sim: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while finishing the order in flight
        return 130
    print(summary.line())  # noqa: T201
    return 1 if summary.failures and summary.orders == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
