"""Engine, session factory and the per-request transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations can drop and alter them on both
# SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every CRM table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(async_url: str, *, echo: bool = False, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine; on SQLite with foreign keys on and real transactions (see below)."""
    kwargs: dict[str, Any] = {"echo": echo}
    if async_url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # Recycling old connections instead of pinging before every checkout saves a round
        # trip per request; a connection the server dropped fails one request at most.
        kwargs.update(pool_size=20, max_overflow=10, pool_recycle=1800)
    engine = create_async_engine(async_url, **kwargs)
    if async_url.startswith("sqlite"):
        _make_sqlite_transactional(engine, foreign_keys=sqlite_foreign_keys)
    return engine


def _make_sqlite_transactional(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    # The sqlite3 driver decides on its own when to BEGIN (only before DML), which breaks
    # SAVEPOINTs and transactional DDL. Per SQLAlchemy's documented recipe we switch that
    # off and emit BEGIN ourselves whenever SQLAlchemy starts a transaction.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Outside any transaction, so these pragmas take effect.
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock at the start. A deferred transaction that reads and
        # then writes cannot wait for a busy lock and fails at once with "database is locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transactional_session(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Yield a session and own its transaction: commit on success, roll back on error.

    Services only flush; this is the one place a request's work is committed.
    """
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
