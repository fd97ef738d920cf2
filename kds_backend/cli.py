"""`kds-backend`: run the companion, and the chores around it (tokens, keys, migrations)."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from api_client.models import DeviceRole

from .auth.tokens import issue_anon_key, issue_token
from .settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = Settings.from_env(database_url=args.database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"KDS companion on http://{args.host}:{args.port}  (database: {_safe_url(settings.database_url)})")
    print(f"anon key: {issue_anon_key(settings.jwt_secret)}")
    sys.stdout.flush()
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, ws="websockets")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kds-backend",
        description="The KDS companion backend: the Supabase subset the kitchen screens use, plus POS intake.",
        epilog="Configuration: KDS_DATABASE_URL (default: SQLite in the user data directory), "
        "KDS_JWT_SECRET (default: generated and kept in the data directory), KDS_DATA_DIR.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the companion (HTTP + realtime websocket)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the kitchen LAN)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql://user:pw@host/kds")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
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
