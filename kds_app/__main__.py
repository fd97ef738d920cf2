"""`kds`: the kitchen screen. With no configuration it runs on the embedded default (the companion
in-process on SQLite in the user data directory)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kds", description="Kitchen display: the cook's touchscreen.")
    parser.add_argument("--config", type=Path, help="settings file (default: KDS_CONFIG or the user config dir)")
    parser.add_argument("--data-dir", type=Path, help="local data (default: KDS_DATA_DIR or the user data dir)")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen (what a kitchen PC wants)")
    parser.add_argument(
        "--ready-board", action="store_true",
        help="also open the customer order-ready board (on the second display if there is one)",
    )
    parser.add_argument(
        "--screenshots", type=Path, metavar="DIR",
        help="write screenshots of every view with realistic orders to DIR and exit",
    )
    parser.add_argument(
        "--self-test", action="store_true",
        help="run one order end to end on a temporary embedded companion, print a report, exit 0 if all passed",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="a working kitchen: the companion in-process (data in a temporary directory unless --data-dir), "
        "a simulated POS, and a grill and an expo window",
    )
    parser.add_argument(
        "--rate", type=_orders_per_min, default=4.0, metavar="ORDERS_PER_MIN",
        help="with --demo: how many orders the simulated POS sends per minute (default 4)",
    )
    return parser.parse_args(argv)


def _orders_per_min(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < rate <= 6000:  # above 100 a second the demo would be a load test, not a kitchen
        raise argparse.ArgumentTypeError(f"{value} must be more than 0 and at most 6000")
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.self_test:
        from .tools.self_test import run_self_test

        return run_self_test()
    if args.demo:
        from .demo.kitchen import run_demo

        return run_demo(data_dir=args.data_dir, rate=args.rate)
    if args.screenshots is not None:
        from .tools.screenshots import write_screenshots

        return write_screenshots(args.screenshots)

    from api_client.data_dir import data_dir

    from .startup.config import ConfigError, config_path, load_config
    from .windows.app import run_app

    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    directory = args.data_dir or data_dir()
    try:
        from .startup.logging_setup import start_logging

        start_logging(directory)
    except OSError as exc:  # a read-only or full disk must not keep the kitchen dark
        print(f"kds: cannot write the log in {directory}: {exc}", file=sys.stderr)
    config_file = args.config or config_path()
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        # A broken settings file must not keep a kitchen dark: say what is wrong and run on the defaults.
        print(f"kds: {exc}; starting with the default settings", file=sys.stderr)
        from .startup.config import AppConfig

        config = AppConfig()
    # --ready-board is for this run only: passed beside the settings, so saving them never writes it.
    return run_app(config, config_file=config_file, data_dir=directory, fullscreen=args.fullscreen,
                   ready_board=args.ready_board)


if __name__ == "__main__":
    sys.exit(main())
