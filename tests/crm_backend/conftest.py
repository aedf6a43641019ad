"""CRM test fixtures: a migrated database per backend, one rolled-back transaction per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from crm_backend.agents.models import Agent, AgentRole
from crm_backend.auth.tokens import issue_agent_token
from crm_backend.cli import ALEMBIC_INI
from crm_backend.core.config import Environment, Settings, to_async_url
from crm_backend.core.database import create_engine, transactional_session
from crm_backend.core.dependencies import get_session
from crm_backend.main import create_app
from tests.crm_backend.factories import make_agent
from tests.databases import temporary_database

SERVICE_TOKEN = "test-service-token-0123456789-abcdefgh"


def alembic_config(database_url: str) -> Config:
    """An Alembic config aimed at `database_url`, leaving the test's logging alone."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every CRM test runs once on SQLite and once on PostgreSQL, built by `alembic upgrade head`."""
    with temporary_database(request.param, tmp_path_factory.mktemp("db")) as url:
        command.upgrade(alembic_config(url), "heads")
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        service_token=SERVICE_TOKEN,
        secret_key="test-secret-key-0123456789-abcdefghij",
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(to_async_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Sessions commit to a SAVEPOINT inside the outer transaction, so request code keeps
    # its real commit/rollback behaviour and the test still leaves nothing behind.
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and checking results directly in the database."""
    async with session_factory() as session:
        yield session


@pytest.fixture
def app(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], session: AsyncSession
) -> FastAPI:
    """The app, with each request's session joined to the test's transaction."""
    app = create_app(settings)

    async def test_session() -> AsyncIterator[AsyncSession]:
        # Data arranged through `session` must be visible to the request.
        await session.flush()
        async with transactional_session(session_factory) as request_session:
            yield request_session

    app.dependency_overrides[get_session] = test_session
    return app


ClientFactory = Callable[[str | None], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_for(app: FastAPI) -> ClientFactory:
    """Build an HTTP client for the app carrying `token` (None: no credentials)."""

    @asynccontextmanager
    async def build(token: str | None) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://crm.test", headers=headers
        ) as http:
            yield http

    return build


@pytest.fixture
async def client(client_for: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated with the service token (as the bot's action server)."""
    async with client_for(SERVICE_TOKEN) as http:
        yield http


@pytest.fixture
async def anonymous_client(client_for: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with no credentials."""
    async with client_for(None) as http:
        yield http


def agent_token(settings: Settings, agent: Agent) -> str:
    """A valid access token for `agent`."""
    token, _ = issue_agent_token(
        agent_id=agent.id, role=agent.role.value, secret=settings.secret_key, lifetime=timedelta(hours=1)
    )
    return token


@pytest.fixture
async def agent(session: AsyncSession) -> Agent:
    return await make_agent(session, role=AgentRole.AGENT)


@pytest.fixture
async def admin(session: AsyncSession) -> Agent:
    return await make_agent(session, role=AgentRole.ADMIN)


@pytest.fixture
async def agent_client(
    client_for: ClientFactory, settings: Settings, agent: Agent
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client logged in as an ordinary agent."""
    async with client_for(agent_token(settings, agent)) as http:
        yield http


@pytest.fixture
async def admin_client(
    client_for: ClientFactory, settings: Settings, admin: Agent
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client logged in as an admin."""
    async with client_for(agent_token(settings, admin)) as http:
        yield http


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
