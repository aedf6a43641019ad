"""Engine, session factory and the per-request transaction."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar, cast

import asyncpg  # type: ignore[import-untyped]  # ships no type hints
from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool, PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

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


K = TypeVar("K")
R = TypeVar("R")
# Reads the results for some keys on a lent asyncpg connection, one per key and in order.
BatchRead = Callable[[Any, Sequence[K]], Awaitable[Sequence[R]]]
# What a waiting key is told instead of its result: run the next statement, or read alone.
_LEAD = object()
_ALONE = object()


# What reads go through: an engine (or a connection) and the session factory bound to it.
Bind = tuple[AsyncEngine | AsyncConnection, async_sessionmaker[AsyncSession]]


# Lent connections run a few hot statements whose best plan does not depend on the values
# (index look-ups by order number), so PostgreSQL plans each once. Left to its default it
# re-plans a statement whenever its generic plan looks dearer than a custom one, which for
# the batched lookup (`unnest` of parameter arrays, estimated at 10 rows whatever they hold)
# is always (pg_prepared_statements: 0 generic plans in 400 runs). On crm_bench, from one
# client, a 4-key statement took 1.56-1.75 ms re-planned each time and 0.76-0.90 ms planned once.
LENT_CONNECTION_SETUP = "SET plan_cache_mode = force_generic_plan"


class ReadOnlyDatabase:
    """Single read statements outside the per-request transaction, for the hottest look-ups.

    On PostgreSQL, `driver()` lends one of a few asyncpg connections kept checked out of the
    engine's pool: on a hot read, the session, the pool checkout and BEGIN/COMMIT cost more
    than the query itself. A lent connection is in autocommit mode: use it for one read-only
    statement. Elsewhere (SQLite) `driver()` yields None and callers read through
    `session()`. The bind may be a connection instead (tests): its driver is lent as it is.
    """

    def __init__(self, resolve: Callable[[], Bind], *, keep: int = 8) -> None:
        # `resolve` names the engine (or connection) and session factory on first use, so
        # an app's dependency can be made before its lifespan has created the engine.
        self._resolve = resolve
        self._wanted = keep
        self._ready = False
        self._idle: list[PoolProxiedConnection] = []
        self._slots = asyncio.Semaphore(max(keep, 1))
        self._batchers: dict[Any, ReadBatcher[Any, Any]] = {}

    def _setup(self) -> None:
        self.bind, self.session_factory = self._resolve()
        self.is_postgresql = self.bind.dialect.name == "postgresql"
        self._engine = self.bind if isinstance(self.bind, AsyncEngine) else None
        # A NullPool engine asks for connections that never outlive their use.
        keep = self._engine is not None and not isinstance(self._engine.pool, NullPool)
        self._keep = self._wanted if keep else 0
        if self._engine is not None and self._keep:
            event.listen(self._engine.sync_engine, "engine_disposed", self._close_idle)
        self._ready = True

    def session(self) -> AsyncSession:
        """A plain session for reads (use it as `async with`); nothing is committed."""
        if not self._ready:
            self._setup()
        return self.session_factory()

    @property
    def lends_driver(self) -> bool:
        """Whether `driver()` lends an asyncpg connection (PostgreSQL) rather than None."""
        if not self._ready:
            self._setup()
        return self.is_postgresql

    def batcher(self, read: BatchRead[K, R], *, in_flight: int = 2, most: int = 32) -> ReadBatcher[K, R]:
        """This database's ReadBatcher for `read` (one per function, made on first use).

        Two statements in flight measured best under bench-crm's load (16 clients, 2 cores)
        against four, run in alternation (3.8 keys per statement instead of 2.1, less CPU per
        lookup in the worker and in PostgreSQL). One in flight, with statements planned once,
        measured alike against two re-planned (2026-12-02, two pairs with CPU counters:
        3,835 and 4,072 vs 4,023 and 4,061 req/s), so two stayed.
        """
        batcher = self._batchers.get(read)
        if batcher is None:
            if not self._ready:
                self._setup()
            # A single bound connection (tests) runs one statement at a time.
            in_flight = in_flight if self._engine is not None else 1
            batcher = self._batchers[read] = ReadBatcher(self, read, in_flight=in_flight, most=most)
        return batcher

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection | None]:
        """Lend an asyncpg connection; None when the database is not PostgreSQL."""
        if not self._ready:
            self._setup()
        if not self.is_postgresql:
            yield None
            return
        if self._engine is None:
            raw = await cast(AsyncConnection, self.bind).get_raw_connection()
            yield raw.driver_connection
            return
        pooled = await self._checkout(self._engine)
        reusable = True
        try:
            yield pooled.driver_connection
        except BaseException as exc:
            # After a refused statement an autocommit connection is fine; after anything
            # else (a lost connection, a cancellation mid-query) it may not be: close it.
            reusable = isinstance(exc, asyncpg.PostgresError)
            raise
        finally:
            await self._checkin(pooled, reusable=reusable)

    async def _checkout(self, engine: AsyncEngine) -> PoolProxiedConnection:
        if not self._keep:
            return await self._lendable(engine)
        await self._slots.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            return await self._lendable(engine)
        except BaseException:
            self._slots.release()
            raise

    @staticmethod
    async def _lendable(engine: AsyncEngine) -> PoolProxiedConnection:
        """A connection from the engine, set up for lending; it never goes back to the pool."""
        pooled = await engine.raw_connection()
        try:
            await cast(asyncpg.Connection, pooled.driver_connection).execute(LENT_CONNECTION_SETUP)
        except BaseException:
            await greenlet_spawn(pooled.invalidate)
            raise
        return pooled

    async def _checkin(self, pooled: PoolProxiedConnection, *, reusable: bool) -> None:
        if self._keep and reusable:
            self._idle.append(pooled)
        else:
            # Back to the engine's pool, or closed: either may await, so in a greenlet.
            await greenlet_spawn(pooled.close if reusable else pooled.invalidate)
        if self._keep:
            self._slots.release()

    def _close_idle(self, _engine: Any) -> None:
        # Runs inside the engine's dispose, in a greenlet, so closing may await.
        while self._idle:
            self._idle.pop().invalidate()


class ReadBatcher(Generic[K, R]):
    """Concurrent reads of one kind, sent as one statement when the database is busy.

    On a hot read, each statement's fixed cost (the round trip: a system call and a wake-up
    on both sides, the protocol, the executor's start and end) is larger than the work for
    one key. While `in_flight` statements are running, a new key waits; when one finishes,
    the next statement takes every key waiting (up to `most`) and each caller gets the
    result for its own key. Nothing waits when the database is idle: a key arriving then
    is sent at once, alone, so this only changes anything under load. Every key is still
    read from the database by its own statement or a shared one: nothing is reused.
    A shared statement that fails is not anyone else's error: the keys it carried for
    others are then read alone, and only its leader sees its exception.
    """

    def __init__(
        self, database: ReadOnlyDatabase, read: BatchRead[K, R], *, in_flight: int, most: int
    ) -> None:
        self._database = database
        self._read = read
        self._free = max(in_flight, 1)
        self._most = max(most, 1)
        self._waiting: deque[tuple[K, asyncio.Future[Any]]] = deque()

    async def get(self, key: K) -> R:
        """The result for `key`, read in the next statement."""
        if self._free:
            self._free -= 1
            return await self._lead(key)
        told = asyncio.get_running_loop().create_future()
        self._waiting.append((key, told))
        try:
            outcome = await told
        except asyncio.CancelledError:
            # Cancelled just after being told to lead: the turn goes to the next key.
            if told.done() and not told.cancelled() and told.result() is _LEAD:
                self._pass_turn()
            raise
        if outcome is _LEAD:
            return await self._lead(key)
        if outcome is _ALONE:
            async with self._database.driver() as connection:
                return (await self._read(connection, [key]))[0]
        return cast(R, outcome)

    async def _lead(self, key: K) -> R:
        # This caller's statement: its own key first, then whatever is waiting.
        batch: list[tuple[K, asyncio.Future[Any] | None]] = [(key, None)]
        while self._waiting and len(batch) < self._most:
            waiting = self._waiting.popleft()
            if not waiting[1].done():
                batch.append(waiting)
        try:
            async with self._database.driver() as connection:
                results = await self._read(connection, [k for k, _ in batch])
        except BaseException:
            for _, told in batch[1:]:
                if told is not None and not told.done():
                    told.set_result(_ALONE)
            raise
        finally:
            self._pass_turn()
        for (_, told), result in zip(batch[1:], results[1:], strict=True):
            if told is not None and not told.done():
                told.set_result(result)
        return results[0]

    def _pass_turn(self) -> None:
        # The statement slot goes to the first key still waiting, or back to the pool.
        while self._waiting:
            _, told = self._waiting.popleft()
            if not told.done():
                told.set_result(_LEAD)
                return
        self._free += 1
