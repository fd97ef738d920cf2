"""`kds-backend`: run the companion, and the chores around it (tokens, keys, migrations)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import secrets
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from api_client.models import DeviceCreate, DeviceRole, RestaurantId, Station

from .auth.tokens import issue_anon_key, issue_token
from .settings import Settings

if TYPE_CHECKING:  # sqlalchemy is imported only by the commands that open the database
    from sqlalchemy.engine import Connection, Engine

    from .db.writer import Writer
    from .hub.settings import UpstreamSettings


def _serve(args: argparse.Namespace) -> int:
    # The variables first: a bad one is refused before the server's imports (seconds on a small hub) and files.
    settings = Settings.from_env(database_url=args.database_url, upstream_url=args.upstream)

    import uvicorn

    from .app import create_app
    from .http_protocol import uvicorn_options
    from .ws_protocol import AbortableWebSocketProtocol

    if args.log_json:
        # JSON lines on stderr, the screen's format (api_client.logs), uvicorn's own loggers included.
        from api_client.logs import install_json_stderr, set_context

        install_json_stderr(logging.INFO)
        set_context(service="kds-backend", role="hub" if settings.upstream is not None else "companion")
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a hub's every request to upstream is not news
    print(f"KDS companion on http://{args.host}:{args.port}  (database: {_safe_url(settings.database_url)})")
    if settings.upstream is not None:
        print(f"kitchen hub in front of {settings.upstream.url}  (mirror: {settings.upstream.store_path})")
        problem = _upstream_account_problem(settings.upstream)
        if problem is not None:  # said in one line here, not at the end of the server's start-up traceback
            print(f"kds-backend: error: {problem}", file=sys.stderr)
            return 2
    print(f"anon key: {issue_anon_key(settings.jwt_secret)}")
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        **({"log_config": None} if args.log_json else {}),  # None: uvicorn's records reach the JSON handler
        ws=AbortableWebSocketProtocol,  # uvicorn's websockets-sansio, able to drop a subscriber that stopped reading
        ws_per_message_deflate=settings.ws_compression,
        **uvicorn_options(settings.limits),  # header size, head timeout, keep-alive, connection cap
    )
    return 0


def _upstream_account_problem(upstream: UpstreamSettings) -> str | None:
    """Why the hub cannot act for its restaurant upstream (sign-in refused, wrong role, never reached), or None."""
    import asyncio

    from .hub.upstream_auth import UpstreamAccountError, sign_in

    async def check() -> None:
        account = await sign_in(upstream)
        await account.aclose()

    try:
        asyncio.run(check())
    except UpstreamAccountError as exc:
        return str(exc)
    return None


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    role = DeviceRole(args.role)
    print(
        issue_token(
            settings.jwt_secret,
            restaurant_id=args.restaurant,
            device_role=role,
            subject=args.device or f"{role.value}-{uuid.uuid4().hex[:8]}",
            stations=args.station or [],
            ttl_s=args.ttl,
        )
    )
    return 0


def _anon_key(_args: argparse.Namespace) -> int:
    print(issue_anon_key(Settings.from_env().jwt_secret))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .db.engine import make_engine, migrate

    engine = make_engine(Settings.from_env(database_url=args.database_url).database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    print("schema is up to date")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from . import openapi_export

    path = args.output or openapi_export.DEFAULT_PATH
    if args.check:
        if openapi_export.is_current(path):
            return 0
        print(f"{path} is out of date; regenerate with: {openapi_export.REGENERATE_COMMAND}", file=sys.stderr)
        return 1
    written = openapi_export.write(path)
    print(f"{'wrote' if written else 'unchanged:'} {path}")
    return 0


def _device_engine(args: argparse.Namespace) -> Engine:
    from .db.engine import make_engine, migrate

    engine = make_engine(Settings.from_env(database_url=args.database_url).database_url)
    migrate(engine)
    return engine


@contextlib.contextmanager
def _writing(args: argparse.Namespace) -> Iterator[Writer]:
    """One write transaction on the command's database (migrated first), the engine disposed after."""
    from .db.writer import write_transaction

    engine = _device_engine(args)
    try:
        with write_transaction(engine) as w:
            yield w
    finally:
        engine.dispose()


@contextlib.contextmanager
def _reading(args: argparse.Namespace) -> Iterator[Connection]:
    """A connection for the command's reads (the database migrated first), the engine disposed after."""
    engine = _device_engine(args)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _device_add(args: argparse.Namespace) -> int:
    from .auth.accounts import create_device
    from .auth.passwords import hash_password

    generated = args.password is None
    password = secrets.token_urlsafe(18) if generated else args.password
    try:
        restaurant = TypeAdapter(RestaurantId).validate_python(args.restaurant)
        body = DeviceCreate(
            name=args.name, email=args.email, password=password, role=DeviceRole(args.role), stations=args.station or []
        )
    except ValidationError as exc:
        # One line per problem, named by option, instead of pydantic's report.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'restaurant'}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None
    password_hash = hash_password(body.password)
    with _writing(args) as w:
        device = create_device(w.conn, restaurant, body, password_hash, w.now)
    print(f"created {device.role.value} device {device.id} in {device.restaurant_id}: {device.name} <{device.email}>")
    if generated:
        # Shown once: only its hash is stored. The installer types it into the screen's sign-in.
        print(f"password: {password}")
    return 0


def _device_list(args: argparse.Namespace) -> int:
    from .auth.accounts import list_devices

    with _reading(args) as conn:
        found = list_devices(conn, args.restaurant)
    if not found:
        print(f"no devices in restaurant {args.restaurant}", file=sys.stderr)
    for d in found:
        print("\t".join([d.id, d.role.value, d.email, d.name, ",".join(d.stations) or "-"]))
    return 0


def _pair(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from .auth.pairing import create_code, format_code

    try:
        restaurant = TypeAdapter(RestaurantId).validate_python(args.restaurant)
        stations = TypeAdapter(list[Station]).validate_python(args.station or [])
    except ValidationError as exc:
        raise ValueError(f"--restaurant or --station: {exc.errors()[0]['msg']}") from None
    if not 1 <= args.minutes <= 60:
        raise ValueError(f"--minutes must be 1-60, not {args.minutes}")
    role = DeviceRole(args.role)
    name = args.name or f"{' + '.join(stations) or role.value} screen (paired)"
    with _writing(args) as w:
        code = create_code(
            w.conn,
            restaurant,
            role=role.value,
            stations=stations,
            name=name,
            now=w.now,
            valid_for=timedelta(minutes=args.minutes),
        )
    # The code is shown once (only its hash is kept); the screen asks for the hub's address and the code.
    print(f"pairing code: {format_code(code)}")
    print(
        f"valid for {args.minutes} minutes, once: {role.value} screen for {', '.join(stations) or 'all stations'} "
        f"in {restaurant}"
    )
    print("on the screen: SETTINGS > Pair with code: this hub's address (e.g. kitchen-hub.local:8000) and the code")
    return 0


def _printer_set(args: argparse.Namespace) -> int:
    from .printing.config import check_printer, parse_address, set_printer
    from .printing.jobs import Printer

    host, port = parse_address(args.address)
    problem = check_printer(args.station, host, port)
    if problem is not None:
        raise ValueError(problem)
    with _writing(args) as w:
        set_printer(w, Printer(args.restaurant, args.station, host, port))
    print(f"{args.restaurant}/{args.station} prints to {host}:{port} while none of its screens is online")
    return 0


def _printer_list(args: argparse.Namespace) -> int:
    from .printing.config import list_printers

    with _reading(args) as conn:
        found = list_printers(conn, args.restaurant)
    if not found:
        print(f"no station printers in restaurant {args.restaurant}", file=sys.stderr)
    for printer, pending in found:
        print(f"{printer.station}\t{printer.host}:{printer.port}\t{pending} job(s) not printed")
    return 0


def _printer_remove(args: argparse.Namespace) -> int:
    from .printing.config import remove_printer

    with _writing(args) as w:
        removed = remove_printer(w, args.restaurant, args.station)
    if not removed:
        raise ValueError(f"station {args.station!r} of {args.restaurant} has no printer")
    print(f"{args.restaurant}/{args.station} no longer prints")
    return 0


def _recipe_set(args: argparse.Namespace) -> int:
    from api_client.models import RecipeSet

    from .recipes import parse_lines, set_recipe

    if not args.item.strip():
        raise ValueError("give the item as the POS names it, like 'Double burger'")
    try:
        body = RecipeSet(ingredients=parse_lines(args.ingredients))
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    with _writing(args) as w:
        item = set_recipe(w, args.restaurant, args.item, body.ingredients)
    lines = ", ".join(f"{line.ingredient} {line.quantity}" for line in item.ingredients)
    print(f"{args.restaurant}: one {item.item_name} takes {lines}")
    return 0


def _recipe_list(args: argparse.Namespace) -> int:
    from .recipes import list_recipes

    with _reading(args) as conn:
        found = list_recipes(conn, args.restaurant)
    if not found:
        print(f"no recipes in restaurant {args.restaurant}", file=sys.stderr)
    for item in found:
        print(f"{item.item_name}\t" + ", ".join(f"{line.ingredient}={line.quantity}" for line in item.ingredients))
    return 0


def _recipe_remove(args: argparse.Namespace) -> int:
    from .recipes import remove_recipe

    with _writing(args) as w:
        removed = remove_recipe(w, args.restaurant, args.item)
    if not removed:
        raise ValueError(f"{args.item!r} of {args.restaurant} has no recipe")
    print(f"{args.restaurant}: {args.item.strip()} counts no ingredients any more")
    return 0


def _prep_seconds(text: str) -> int:
    """ "90", "1:30" or "1:30:00" as seconds, or a ValueError a cook can act on."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r}: give seconds (90) or minutes:seconds (1:30)")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _prep_time_set(args: argparse.Namespace) -> int:
    from .prep_times import set_prep_time

    seconds = _prep_seconds(args.time)
    with _writing(args) as w:
        saved = set_prep_time(w, args.restaurant, args.item, seconds)
    print(f"{args.restaurant}: {saved.item_name} takes {_clock(saved.seconds)} (items sent from now on)")
    return 0


def _prep_time_list(args: argparse.Namespace) -> int:
    from .prep_times import list_prep_times

    with _reading(args) as conn:
        found = list_prep_times(conn, args.restaurant)
    if not found:
        print(f"no prep times in restaurant {args.restaurant}", file=sys.stderr)
    for prep in found:
        print(f"{prep.item_name}\t{_clock(prep.seconds)}")
    return 0


def _prep_time_remove(args: argparse.Namespace) -> int:
    from .prep_times import remove_prep_time

    with _writing(args) as w:
        removed = remove_prep_time(w, args.restaurant, args.item)
    if not removed:
        raise ValueError(f"{args.item!r} of {args.restaurant} has no prep time")
    print(f"{args.restaurant}: {args.item.strip()} fires with its course from now on")
    return 0


def _prep_time_suggest(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .prep_times import MIN_SAMPLES, suggest, suggest_window

    since, until = suggest_window(datetime.now(UTC), args.days)
    with _reading(args) as conn:
        found = suggest(conn, args.restaurant, since=since, until=until)
    if not found:
        print(f"no item was done {MIN_SAMPLES} times in the last {args.days} days", file=sys.stderr)
    for tip in found:
        now = f"set {_clock(tip.current)}" if tip.current is not None else "not set"
        print(f"{tip.item_name}\t{_clock(tip.seconds)}\t({now}; median of {tip.samples})")
    return 0


def _clear_day(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .day_end import clear_day, last_boundary

    settings = Settings.from_env(database_url=args.database_url)
    # Default: what the scheduler does at the day end. --now: everything open, e.g. closing early.
    before = datetime.now(UTC) if args.now else last_boundary(settings)
    with _writing(args) as w:
        cleared = clear_day(w, before, args.restaurant)
    where = f" in {args.restaurant}" if args.restaurant else ""
    print(f"cleared {len(cleared)} open order(s){where} created before {before.isoformat()}")
    return 0


def _export_prep_times(args: argparse.Namespace) -> int:
    from api_client.business_day import zone

    from .prep_report import parse_range, prep_rows, to_csv

    days = parse_range(args.since, args.until)
    settings = Settings.from_env(database_url=args.database_url)
    with _reading(args) as conn:
        body = to_csv(prep_rows(conn, days, settings.day_end_hour, zone(settings.timezone), args.restaurant))
    if args.out is None:
        sys.stdout.write(body)
    else:
        args.out.write_text(body, encoding="utf-8")
        print(f"wrote {body.count(chr(10)) - 1} row(s) to {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kds-backend",
        description="The KDS companion backend: the Supabase subset the kitchen screens use, plus POS intake.",
        epilog="Configuration: KDS_DATABASE_URL (default: SQLite in the user data directory), "
        "KDS_JWT_SECRET (default: generated and kept in the data directory), KDS_DATA_DIR, "
        "KDS_DAY_END_HOUR (default 4), KDS_TIMEZONE (default: this machine's zone); every KDS_* variable, its "
        "default and its range: the README's table. A bad value stops every command here, naming it (status 2).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the companion (HTTP + realtime websocket)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the kitchen LAN)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql://user:pw@host/kds")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--log-json",
        action="store_true",
        help="log JSON lines on stderr (ts, level, logger, msg, version and the record's fields), as the screens do",
    )
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="run as a kitchen hub in front of this Supabase project or companion (KDS_UPSTREAM_URL); its anon key "
        "and account come from KDS_UPSTREAM_ANON_KEY and KDS_UPSTREAM_EMAIL/KDS_UPSTREAM_PASSWORD (or "
        "KDS_UPSTREAM_TOKEN)",
    )
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="print an access token for a device")
    token.add_argument("--restaurant", required=True)
    token.add_argument("--role", required=True, choices=[r.value for r in DeviceRole])
    token.add_argument("--station", action="append", help="a station the device shows (repeatable)")
    token.add_argument("--device", help="device id (the token's subject); default: a new random id")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.set_defaults(func=_token)

    anon = sub.add_parser("anon-key", help="print the public API key (send it as the `apikey` header)")
    anon.set_defaults(func=_anon_key)

    mig = sub.add_parser("migrate", help="bring the database schema up to date (serve does this too)")
    mig.add_argument("--database-url")
    mig.set_defaults(func=_migrate)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document (docs/openapi.json in the source tree)")
    openapi.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    openapi.add_argument("--output", type=Path, help="where to write it (default: docs/openapi.json)")
    openapi.set_defaults(func=_openapi)

    device = sub.add_parser("device", help="manage device accounts (the screens' sign-ins)")
    device_sub = device.add_subparsers(dest="device_command", required=True)
    add = device_sub.add_parser("add", help="create a device account and print its id (and password, if generated)")
    add.add_argument("--restaurant", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in DeviceRole])
    add.add_argument("--name", required=True, help="what the admin sees, e.g. 'Grill screen'")
    add.add_argument("--email", required=True, help="the device's sign-in email")
    add.add_argument("--station", action="append", help="a station the device shows (repeatable)")
    add.add_argument("--password", help="at least 8 characters; default: generate a strong one and print it")
    add.add_argument("--database-url")
    add.set_defaults(func=_device_add)
    listing = device_sub.add_parser("list", help="list a restaurant's devices: id, role, email, name, stations")
    listing.add_argument("--restaurant", required=True)
    listing.add_argument("--database-url")
    listing.set_defaults(func=_device_list)

    pair = sub.add_parser("pair", help="print a one-time code a screen pairs with (SETTINGS > Pair with code)")
    pair.add_argument("--restaurant", required=True)
    pair.add_argument("--station", action="append", help="a station the screen shows (repeatable; none: all)")
    pair.add_argument("--role", default="kds", choices=[DeviceRole.kds.value, DeviceRole.expo.value])
    pair.add_argument("--name", help="the device account's name (default: '<stations> screen (paired)')")
    pair.add_argument("--minutes", type=int, default=10, help="how long the code is valid (1-60, default 10)")
    pair.add_argument("--database-url")
    pair.set_defaults(func=_pair)

    printer = sub.add_parser("printer", help="a station's backup ESC/POS network printer, for when no screen is on")
    printer_sub = printer.add_subparsers(dest="printer_command", required=True)
    pset = printer_sub.add_parser("set", help="name the station's printer (replacing any)")
    pset.add_argument("--restaurant", required=True)
    pset.add_argument("--station", required=True, help="e.g. grill")
    pset.add_argument("address", help="HOST or HOST:PORT (port 9100 if left out), e.g. 192.168.1.50")
    pset.add_argument("--database-url")
    pset.set_defaults(func=_printer_set)
    plist = printer_sub.add_parser("list", help="list a restaurant's printers: station, address, jobs not printed")
    plist.add_argument("--restaurant", required=True)
    plist.add_argument("--database-url")
    plist.set_defaults(func=_printer_list)
    premove = printer_sub.add_parser("remove", help="stop printing a station's tickets")
    premove.add_argument("--restaurant", required=True)
    premove.add_argument("--station", required=True)
    premove.add_argument("--database-url")
    premove.set_defaults(func=_printer_remove)

    recipe = sub.add_parser("recipe", help="what goes into a menu item, for the all-day panel's ingredient counts")
    recipe_sub = recipe.add_subparsers(dest="recipe_command", required=True)
    rset = recipe_sub.add_parser("set", help="set an item's whole recipe (replacing any)")
    rset.add_argument("--restaurant", required=True)
    rset.add_argument("item", help="the menu item as the POS names it, e.g. 'Double burger'")
    rset.add_argument("ingredients", nargs="+", help="INGREDIENT=COUNT per one item, e.g. patty=2 bun=1")
    rset.add_argument("--database-url")
    rset.set_defaults(func=_recipe_set)
    rlist = recipe_sub.add_parser("list", help="list a restaurant's recipes")
    rlist.add_argument("--restaurant", required=True)
    rlist.add_argument("--database-url")
    rlist.set_defaults(func=_recipe_list)
    rremove = recipe_sub.add_parser("remove", help="remove an item's recipe")
    rremove.add_argument("--restaurant", required=True)
    rremove.add_argument("item")
    rremove.add_argument("--database-url")
    rremove.set_defaults(func=_recipe_remove)

    prep = sub.add_parser("prep-time", help="how long menu items take to cook, for fire timing")
    prep_sub = prep.add_subparsers(dest="prep_command", required=True)
    tset = prep_sub.add_parser("set", help="set an item's prep time (items sent from now on carry it)")
    tset.add_argument("--restaurant", required=True)
    tset.add_argument("item", help="the menu item as the POS names it, e.g. 'Ribeye'")
    tset.add_argument("time", help="seconds (540) or minutes:seconds (9:00)")
    tset.add_argument("--database-url")
    tset.set_defaults(func=_prep_time_set)
    tlist = prep_sub.add_parser("list", help="list a restaurant's prep times")
    tlist.add_argument("--restaurant", required=True)
    tlist.add_argument("--database-url")
    tlist.set_defaults(func=_prep_time_list)
    tremove = prep_sub.add_parser("remove", help="remove an item's prep time (it fires with its course)")
    tremove.add_argument("--restaurant", required=True)
    tremove.add_argument("item")
    tremove.add_argument("--database-url")
    tremove.set_defaults(func=_prep_time_remove)
    tsuggest = prep_sub.add_parser("suggest", help="prep times learned from the kitchen's done times (sets nothing)")
    tsuggest.add_argument("--restaurant", required=True)
    tsuggest.add_argument("--days", type=int, default=14, help="days of history (default 14)")
    tsuggest.add_argument("--database-url")
    tsuggest.set_defaults(func=_prep_time_suggest)

    from .cli_load_routing import add_commands as add_load_routing

    add_load_routing(sub, reading=_reading, writing=_writing)

    clear = sub.add_parser(
        "clear-day",
        help="archive the orders still open from before the last day end (KDS_DAY_END_HOUR, KDS_TIMEZONE); "
        "they leave every screen and stay in reports",
    )
    clear.add_argument("--now", action="store_true", help="clear every open order now, not only the last day's")
    clear.add_argument("--restaurant", help="only this restaurant (default: all on this database)")
    clear.add_argument("--database-url")
    clear.set_defaults(func=_clear_day)

    export = sub.add_parser("export-prep-times", help="write ticket times as CSV: one row per order and station")
    export.add_argument("--since", required=True, help="first kitchen day, YYYY-MM-DD")
    export.add_argument("--until", required=True, help="last kitchen day (included), YYYY-MM-DD")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--restaurant", help="only this restaurant (default: all on this database)")
    export.add_argument("--database-url")
    export.set_defaults(func=_export_prep_times)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        # One line per problem (SettingsError names every bad KDS_* variable), each saying what it is about.
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"kds-backend: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
