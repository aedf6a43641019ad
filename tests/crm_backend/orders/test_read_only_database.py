"""ReadOnlyDatabase: the lookup's connections, lent from a real engine on each backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from crm_backend.core.config import to_async_url
from crm_backend.core.database import ReadOnlyDatabase, create_engine, create_session_factory
from crm_backend.orders.documents import OWNED_ORDER_DOCUMENTS
from crm_backend.orders.repository import OwnershipKey, owned_order_documents


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(to_async_url(database_url))
    yield engine
    await engine.dispose()


async def test_connections_are_kept_and_reused_up_to_the_limit(own_engine: AsyncEngine):
    database = ReadOnlyDatabase(lambda: (own_engine, create_session_factory(own_engine)), keep=2)
    postgresql = own_engine.dialect.name == "postgresql"
    seen: list[object] = []

    async def read() -> None:
        async with database.driver() as driver:
            assert (driver is not None) == postgresql
            if driver is not None:
                assert await driver.fetchval("SELECT 1") == 1
                seen.append(driver)
                await asyncio.sleep(0.01)

    await asyncio.gather(*(read() for _ in range(6)))
    await read()

    if postgresql:
        assert len({id(driver) for driver in seen}) == 2  # six concurrent reads, two connections
        pool = own_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 2  # kept between uses, not returned
    async with database.session() as session:
        assert session.bind is own_engine


async def test_a_lost_connection_is_dropped_and_replaced(own_engine: AsyncEngine):
    if own_engine.dialect.name != "postgresql":
        # SQLite lends no driver connection: nothing can be lost.
        database = ReadOnlyDatabase(lambda: (own_engine, create_session_factory(own_engine)))
        async with database.driver() as driver:
            assert driver is None
        return
    database = ReadOnlyDatabase(lambda: (own_engine, create_session_factory(own_engine)), keep=1)
    async with database.driver() as driver:
        assert driver is not None
        first_pid = await driver.fetchval("SELECT pg_backend_pid()")
        await driver.close()  # as if the server had dropped it

    async def read_on_the_lost_connection() -> None:
        async with database.driver() as lost:
            assert lost is not None
            await lost.fetchval("SELECT 1")

    with pytest.raises(Exception, match="closed"):
        await read_on_the_lost_connection()
    async with database.driver() as driver:
        assert driver is not None
        assert await driver.fetchval("SELECT pg_backend_pid()") != first_pid


async def test_disposing_the_engine_closes_the_kept_connections(database_url: str):
    engine = create_engine(to_async_url(database_url))
    database = ReadOnlyDatabase(lambda: (engine, create_session_factory(engine)), keep=2)
    async with database.driver() as driver:
        if driver is not None:
            await driver.fetchval("SELECT 1")

    await engine.dispose()

    if driver is not None:
        assert driver.is_closed()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_lent_connections_plan_the_batched_lookup_once(own_engine: AsyncEngine):
    # Left to PostgreSQL's default, the batched lookup (unnest of parameter arrays) was
    # re-planned on every run: 0 generic plans in 400, twice the time per statement.
    database = ReadOnlyDatabase(lambda: (own_engine, create_session_factory(own_engine)), keep=1)
    keys = [OwnershipKey(f"ORD-{n:06d}", "nobody@example.com", None) for n in range(3)]
    async with database.driver() as driver:
        assert driver is not None
        assert await driver.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
        for _ in range(8):
            assert await owned_order_documents(driver, keys) == [None, None, None]
        plans = await driver.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            OWNED_ORDER_DOCUMENTS,
        )
    assert plans is not None
    assert (plans["generic_plans"], plans["custom_plans"]) == (8, 0)
