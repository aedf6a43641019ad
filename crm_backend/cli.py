"""Command line: `python -m crm_backend {serve,migrate,seed,check,order-documents}`.

Start-up failures (port taken, database unreachable, bad settings) end with one line
on stderr and exit status 1, never a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.database import create_engine, create_session_factory

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


class StartupError(Exception):
    """A reason the CRM cannot start, worded for the operator."""


class CheckFailed(Exception):
    """A check found something wrong, worded for the operator."""


def _load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise StartupError(f"invalid settings: {problems}") from None


def _ensure_sqlite_folder(settings: Settings) -> None:
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


async def _check_database(settings: Settings) -> None:
    try:
        engine = create_engine(settings.async_database_url)
    except (ArgumentError, ValueError) as exc:
        raise StartupError(f"bad database URL {settings.database_url!r}: {exc}") from None
    except ModuleNotFoundError as exc:
        raise StartupError(f"no driver for database URL {settings.database_url!r}: {exc}") from None
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StartupError(f"cannot reach the database: {reason}") from None
    finally:
        await engine.dispose()


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(f"port {port} on {host} is already in use") from None
            raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def migrate(settings: Settings) -> None:
    """Upgrade the database to the newest migration."""
    from alembic import command
    from alembic.config import Config

    _ensure_sqlite_folder(settings)
    asyncio.run(_check_database(settings))
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", settings.database_url)
    command.upgrade(config, "head")


async def _seed(settings: Settings) -> tuple[bool, int]:
    """Load the demo shop into an empty database and the FAQ files into an empty FAQ table."""
    engine = create_engine(settings.async_database_url)
    try:
        from crm_backend.demo.seed import seed_demo_data, seed_faq_articles

        async with create_session_factory(engine)() as session, session.begin():
            return await seed_demo_data(session), await seed_faq_articles(session)
    finally:
        await engine.dispose()


async def _order_documents(settings: Settings, *, rebuild: bool) -> str:
    """Check the lookup's read model against the orders (PostgreSQL), or render it again."""
    from crm_backend.orders import documents

    engine = create_engine(settings.async_database_url)
    try:
        if engine.dialect.name != "postgresql":
            return "crm: no order documents on this database (the lookup renders through the ORM)"
        if rebuild:
            return f"crm: {await documents.rebuild(engine):,} order documents rendered"
        async with engine.connect() as connection:
            found = await documents.drift(connection)
    finally:
        await engine.dispose()
    if found.current:
        return "crm: order documents are current"
    raise CheckFailed(
        f"order documents drifted: {found.missing} missing, {found.stale} stale"
        " (repair: python -m crm_backend order-documents --rebuild)"
    )


def serve(settings: Settings, host: str, port: int) -> None:
    """Check the port and the database, then serve the API with uvicorn."""
    import uvicorn

    from crm_backend.main import create_app

    _check_port_free(host, port)
    _ensure_sqlite_folder(settings)
    asyncio.run(_check_database(settings))
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m crm_backend`."""
    parser = argparse.ArgumentParser(prog="python -m crm_backend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the HTTP API")
    serve_cmd.add_argument("--host", default=None)
    serve_cmd.add_argument("--port", type=int, default=None)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed", help="load the demo shop into an empty database")
    commands.add_parser("check", help="check settings and database, then exit")
    documents_cmd = commands.add_parser(
        "order-documents", help="compare the order lookup's read model with the orders (exit 1 if it drifted)"
    )
    documents_cmd.add_argument("--rebuild", action="store_true", help="render every order's document again")
    args = parser.parse_args(argv)

    try:
        settings = _load_settings()
        if args.command == "serve":
            serve(settings, args.host or settings.host, args.port or settings.port)
        elif args.command == "migrate":
            migrate(settings)
            print("crm: database is at the newest migration")
        elif args.command == "seed":
            seeded, articles = asyncio.run(_seed(settings))
            print("crm: demo data loaded" if seeded else "crm: database already has data; demo seed skipped")
            if articles:
                print(f"crm: {articles} FAQ articles loaded from faq/articles")
        elif args.command == "check":
            _ensure_sqlite_folder(settings)
            asyncio.run(_check_database(settings))
            print("crm: settings and database OK")
        elif args.command == "order-documents":
            asyncio.run(_check_database(settings))
            print(asyncio.run(_order_documents(settings, rebuild=args.rebuild)))
    except StartupError as exc:
        print(f"crm: cannot start: {exc}", file=sys.stderr)
        return 1
    except CheckFailed as exc:
        print(f"crm: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
