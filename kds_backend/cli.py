"""`kds-backend`: run the companion, and the chores around it (tokens, keys, migrations)."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from api_client.models import DeviceCreate, DeviceRole, RestaurantId

from .auth.tokens import issue_anon_key, issue_token
from .settings import Settings

if TYPE_CHECKING:  # sqlalchemy is imported only by the commands that open the database
    from sqlalchemy.engine import Engine

    from .hub.settings import UpstreamSettings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .http_protocol import uvicorn_options
    from .ws_protocol import AbortableWebSocketProtocol

    settings = Settings.from_env(database_url=args.database_url, upstream_url=args.upstream)
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


def _device_add(args: argparse.Namespace) -> int:
    from .auth.accounts import create_device
    from .auth.passwords import hash_password
    from .db.writer import write_transaction

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
    engine = _device_engine(args)
    try:
        with write_transaction(engine) as w:
            device = create_device(w.conn, restaurant, body, password_hash, w.now)
    finally:
        engine.dispose()
    print(f"created {device.role.value} device {device.id} in {device.restaurant_id}: {device.name} <{device.email}>")
    if generated:
        # Shown once: only its hash is stored. The installer types it into the screen's sign-in.
        print(f"password: {password}")
    return 0


def _device_list(args: argparse.Namespace) -> int:
    from .auth.accounts import list_devices

    engine = _device_engine(args)
    try:
        with engine.connect() as conn:
            found = list_devices(conn, args.restaurant)
    finally:
        engine.dispose()
    if not found:
        print(f"no devices in restaurant {args.restaurant}", file=sys.stderr)
    for d in found:
        print("\t".join([d.id, d.role.value, d.email, d.name, ",".join(d.stations) or "-"]))
    return 0


def _clear_day(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .day_end import clear_day, last_boundary
    from .db.writer import write_transaction

    settings = Settings.from_env(database_url=args.database_url)
    # Default: what the scheduler does at the day end. --now: everything open, e.g. closing early.
    before = datetime.now(UTC) if args.now else last_boundary(settings)
    engine = _device_engine(args)
    try:
        with write_transaction(engine) as w:
            cleared = clear_day(w, before, args.restaurant)
    finally:
        engine.dispose()
    where = f" in {args.restaurant}" if args.restaurant else ""
    print(f"cleared {len(cleared)} open order(s){where} created before {before.isoformat()}")
    return 0


def _export_prep_times(args: argparse.Namespace) -> int:
    from api_client.business_day import zone

    from .prep_report import parse_range, prep_rows, to_csv

    days = parse_range(args.since, args.until)
    settings = Settings.from_env(database_url=args.database_url)
    engine = _device_engine(args)
    try:
        with engine.connect() as conn:
            body = to_csv(prep_rows(conn, days, settings.day_end_hour, zone(settings.timezone), args.restaurant))
    finally:
        engine.dispose()
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
        "KDS_DAY_END_HOUR (default 4), KDS_TIMEZONE (default: this machine's zone).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the companion (HTTP + realtime websocket)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the kitchen LAN)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql://user:pw@host/kds")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--log-json", action="store_true",
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
        print(f"kds-backend: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
