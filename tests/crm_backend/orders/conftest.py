"""Order tests: the read-only look-ups see the test's transaction too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from crm_backend.core.database import ReadOnlyDatabase


class ReadsInTestTransaction(ReadOnlyDatabase):
    """Reads on the test's connection, after flushing what the test arranged in `session`."""

    def __init__(
        self,
        connection: AsyncConnection,
        session_factory: async_sessionmaker[AsyncSession],
        session: AsyncSession,
    ) -> None:
        super().__init__(lambda: (connection, session_factory))
        self._arranged = session

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        await self._arranged.flush()
        async with super().driver() as connection:
            yield connection


@pytest.fixture
def app(
    app: FastAPI,
    connection: AsyncConnection,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> FastAPI:
    """The app, with reads outside the request transaction joined to the test's connection.

    Put where `get_read_only_database` finds the app's own, not as a dependency override:
    the lookup's fast path (which declines overridden dependencies) is what tests exercise.
    """
    app.state.read_only_database = ReadsInTestTransaction(connection, session_factory, session)
    return app
