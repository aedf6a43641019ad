"""Concurrent lookups share a statement when the database is busy (ReadBatcher), each with its own answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from crm_backend.core.database import ReadBatcher, ReadOnlyDatabase
from crm_backend.orders import repository, service
from crm_backend.orders.models import OrderStatus
from tests.crm_backend.factories import make_customer, make_order


class Recorder:
    """A batch read that answers key * 10 after a few turns of the loop and records each batch."""

    def __init__(self, *, failing: set[int] | None = None) -> None:
        self.batches: list[list[int]] = []
        self.failing = failing or set()

    async def __call__(self, _connection: Any, keys: Sequence[int]) -> list[int]:
        self.batches.append(list(keys))
        for _ in range(3):
            await asyncio.sleep(0)
        if len(keys) > 1 and self.failing & set(keys):
            raise RuntimeError("the shared statement failed")
        if len(keys) == 1 and keys[0] in self.failing:
            raise RuntimeError(f"key {keys[0]} failed")
        return [key * 10 for key in keys]


@pytest.fixture
def database(
    connection: AsyncConnection, session_factory: async_sessionmaker[AsyncSession]
) -> ReadOnlyDatabase:
    return ReadOnlyDatabase(lambda: (connection, session_factory))


async def test_an_idle_batcher_reads_at_once_and_a_busy_one_gathers_the_waiting_keys(database):
    read = Recorder()
    batcher = ReadBatcher(database, read, in_flight=1, most=32)

    assert await batcher.get(1) == 10
    results = await asyncio.gather(*(batcher.get(key) for key in range(2, 8)))

    assert results == [20, 30, 40, 50, 60, 70]
    # The first key found the batcher idle; the others arrived while it ran and went together.
    assert read.batches == [[1], [2], [3, 4, 5, 6, 7]]


async def test_a_batch_takes_at_most_most_keys_and_the_rest_follow(database):
    read = Recorder()
    batcher = ReadBatcher(database, read, in_flight=1, most=2)

    results = await asyncio.gather(*(batcher.get(key) for key in range(1, 7)))

    assert results == [10, 20, 30, 40, 50, 60]
    assert read.batches == [[1], [2, 3], [4, 5], [6]]


async def test_two_statements_may_run_at_once(database):
    read = Recorder()
    batcher = ReadBatcher(database, read, in_flight=2, most=32)

    assert await asyncio.gather(*(batcher.get(key) for key in range(1, 6))) == [10, 20, 30, 40, 50]
    assert read.batches[:2] == [[1], [2]]
    assert sorted(key for batch in read.batches for key in batch) == [1, 2, 3, 4, 5]


async def test_a_failed_shared_statement_is_only_its_leaders_error(database):
    # Key 2 leads the shared statement [2, 3, 4, 5] and it fails: 2 sees the error, while
    # 3, 4 and 5 are read again alone and get their own answers.
    read = Recorder(failing={2})
    batcher = ReadBatcher(database, read, in_flight=1, most=32)

    results = await asyncio.gather(*(batcher.get(key) for key in range(1, 6)), return_exceptions=True)

    assert results[0] == 10
    assert isinstance(results[1], RuntimeError)
    assert results[2:] == [30, 40, 50]
    assert read.batches == [[1], [2, 3, 4, 5], [3], [4], [5]]
    assert await batcher.get(6) == 60  # the slot was given back


async def test_cancelled_waiters_are_skipped_and_the_turn_is_passed_on(database):
    read = Recorder()
    batcher = ReadBatcher(database, read, in_flight=1, most=32)

    leader = asyncio.create_task(batcher.get(1))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(batcher.get(key)) for key in (2, 3, 4)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # would have been told to lead the next statement
    waiting[1].cancel()

    assert await leader == 10
    assert await waiting[2] == 40
    for cancelled in waiting[:2]:
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    assert not {2, 3} & {key for batch in read.batches for key in batch}
    assert list(await asyncio.gather(batcher.get(5), batcher.get(6))) == [50, 60]


# PostgreSQL only: SQLite reads orders through the ORM, one at a time, with no shared statement.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_shared_statement_answers_each_key_like_its_own_statement(
    connection: AsyncConnection, session_factory: async_sessionmaker[AsyncSession], session: AsyncSession
):
    assert connection.dialect.name == "postgresql"
    delivered = await make_order(session, delivered_days_ago=5)
    shipped = await make_order(session, status=OrderStatus.SHIPPED, shipped=True)
    other = await make_customer(session)
    await session.flush()
    keys = [
        repository.OwnershipKey(delivered.number, delivered.email, None),
        repository.OwnershipKey(shipped.number, None, shipped.customer_id),
        repository.OwnershipKey(shipped.number, other.email, None),  # not the owner's email
        repository.OwnershipKey(delivered.number, None, other.id),  # nor the owner's id
        repository.OwnershipKey("ORD-999998", delivered.email, None),  # no such order
        repository.OwnershipKey(delivered.number, delivered.email, None),  # asked twice
    ]
    database = ReadOnlyDatabase(lambda: (connection, session_factory))

    async with database.driver() as driver:
        together = await repository.owned_order_documents(driver, keys)
        alone = [
            await repository.owned_order_document(driver, number=n, email=e, customer_id=c)
            for n, e, c in keys
        ]

    assert together == alone
    assert [found is not None for found in together] == [True, True, False, False, False, True]


# PostgreSQL only: the tests' SQLite connection serves one request at a time.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_lookups_through_the_api_each_get_their_own_order(
    client: httpx.AsyncClient,
    session: AsyncSession,
    connection: AsyncConnection,
    monkeypatch: pytest.MonkeyPatch,
):
    assert connection.dialect.name == "postgresql"
    batch_sizes: list[int] = []
    read_together = repository.owned_order_documents

    async def spied(driver: Any, keys: Sequence[repository.OwnershipKey]) -> list[Any]:
        batch_sizes.append(len(keys))
        return await read_together(driver, keys)

    monkeypatch.setattr(repository, "owned_order_documents", spied)
    orders = [await make_order(session, status=status) for status in OrderStatus]
    stranger = await make_customer(session)
    await session.flush()
    session.expunge_all()
    expected = [
        json.loads(service.to_read(await service.get_order(session, order.number)).model_dump_json())
        for order in orders
    ]

    def lookup(number: str, email: str | None) -> Any:
        return client.post("/api/orders/lookup", json={"order_number": number, "email": email})

    answers = await asyncio.gather(
        *(lookup(order.number, order.email) for order in orders), lookup(orders[0].number, stranger.email)
    )

    assert [answer.status_code for answer in answers] == [200] * len(orders) + [404]
    assert [json.loads(answer.content) for answer in answers[:-1]] == expected
    assert max(batch_sizes) > 1  # some of them did share a statement
