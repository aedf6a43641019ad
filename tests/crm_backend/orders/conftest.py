"""Order tests: the read-only look-ups see the test's transaction too."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from crm_backend.core.database import ReadOnlyDatabase
from crm_backend.core.dependencies import get_read_only_database


@pytest.fixture
def app(
    app: FastAPI,
    connection: AsyncConnection,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> FastAPI:
    """The app, with reads outside the request transaction joined to the test's connection."""

    async def test_reads() -> ReadOnlyDatabase:
        await session.flush()
        return ReadOnlyDatabase(lambda: (connection, session_factory))

    app.dependency_overrides[get_read_only_database] = test_reads
    return app
