"""`kds-sync --headless`: one screen's sync engine without a UI, printing its state as JSON lines.

For benchmarks and fault tests: every change of connection state, queue depth or tickets prints one line
`{"connection": ..., "queue_depth": ..., "open_tickets": ..., ...}` on stdout. SIGINT/SIGTERM stop it orderly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from api_client.client import KdsApiClient
from api_client.models import DeviceRole
from api_client.token_provider import SessionTokenProvider, StaticTokenProvider, TokenProvider
from sync.engine.engine import EngineConfig, SyncEngine
from sync.realtime.channels import REALTIME_MODES


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kds-sync", description=__doc__.splitlines()[0])
    parser.add_argument("--headless", action="store_true", required=True, help="run without a UI (required)")
    parser.add_argument("--url", required=True, help="companion or Supabase project URL")
    parser.add_argument("--anon-key", required=True)
    auth = parser.add_mutually_exclusive_group(required=True)
    auth.add_argument("--token", help="a device access token")
    auth.add_argument("--email", help="sign in with email and --password")
    parser.add_argument("--password")
    parser.add_argument("--restaurant", required=True)
    parser.add_argument("--device", help="the device id (default with --email: the signed-in device's id)")
    parser.add_argument("--role", default="kds", choices=[r.value for r in DeviceRole])
    parser.add_argument("--station", action="append", default=[], help="repeatable; the first one is listed")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--realtime",
        default="postgres_changes",
        choices=REALTIME_MODES,
        help="postgres_changes (default) or broadcast: the restaurant's private Broadcast from Database topic",
    )
    args = parser.parse_args(argv)
    if args.email is not None and args.password is None:
        parser.error("--email needs --password")
    if args.token is not None and args.device is None:
        parser.error("--token needs --device")
    return args


async def _sign_in(args: argparse.Namespace, stack: contextlib.AsyncExitStack) -> tuple[TokenProvider, str]:
    """The token source and the device id it speaks for."""
    if args.token is not None:
        return StaticTokenProvider(args.token), args.device
    # Kept open for the whole run: the session provider refreshes through it.
    auth = await stack.enter_async_context(KdsApiClient(args.url, args.anon_key))
    session = await auth.sign_in(args.email, args.password)
    return SessionTokenProvider(session, auth.refresh), args.device or str(session.user.id)


class _Printer:
    """Prints a state line when anything in it changed since the last line."""

    def __init__(self, engine: SyncEngine, station: str | None) -> None:
        self.engine, self.station = engine, station
        self._last: dict[str, float | str | None] | None = None

    def __call__(self, *_: object) -> None:
        age = self.engine.oldest_pending_age()
        state = {
            "connection": self.engine.connection_state.value.value,
            "caught_up": self.engine.caught_up.value,
            "queue_depth": self.engine.queue_depth.value,
            "oldest_pending_age_s": None if age is None else round(age, 3),
            "open_tickets": len(self.engine.open_tickets(self.station)),
            "last_error": self.engine.last_error.value,
        }
        compare = {k: v for k, v in state.items() if k != "oldest_pending_age_s"}
        if compare == self._last:
            return
        self._last = compare
        sys.stdout.write(json.dumps({"t": round(time.time(), 3), **state}) + "\n")
        sys.stdout.flush()


async def run(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        tokens, device = await _sign_in(args, stack)
        config = EngineConfig(
            url=args.url,
            anon_key=args.anon_key,
            restaurant_id=args.restaurant,
            device_id=device,
            role=DeviceRole(args.role),
            stations=tuple(args.station),
            token_provider=tokens,
            data_path=args.data_dir / f"{device}.sqlite3",
            realtime=args.realtime,
        )
        engine = SyncEngine(config)
        printer = _Printer(engine, args.station[0] if args.station else None)
        for observable in (engine.connection_state, engine.queue_depth, engine.last_error, engine.caught_up):
            observable.subscribe(printer)
        engine.on_changes(printer)
        await engine.start()
        try:
            printer()
            await stop.wait()
        finally:
            await engine.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
