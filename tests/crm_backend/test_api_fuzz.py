"""Property-based fuzzing of the whole API from its OpenAPI document: no input may cause a 5xx.

Schemathesis generates valid and invalid requests for every operation and sends them,
as the bot (service token) and as an admin, to the real app on a real PostgreSQL
database holding a small demo shop, so look-ups also hit existing rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from alembic import command
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.types import Receive, Scope, Send

from crm_backend.agents.models import Agent, AgentRole
from crm_backend.auth.tokens import issue_agent_token
from crm_backend.core.config import Environment, Settings, to_async_url
from crm_backend.core.database import create_session_factory
from crm_backend.demo.seed import seed_demo_data
from crm_backend.main import create_app
from tests.crm_backend.conftest import SERVICE_TOKEN, alembic_config
from tests.databases import temporary_postgres_database

FUZZ_SECRET = "fuzz-secret-key-0123456789-abcdefghij"
FUZZ_CONFIG = schemathesis.Config.from_dict(
    {"generation": {"mode": "all", "max-examples": 30, "database": "none"}, "seed": 20261123}
)


class _AppSlot:
    """The ASGI app schemathesis calls; the fixture plugs in the app on the fuzz database.

    The schema must exist when tests are collected, before any database does.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        service_token=SERVICE_TOKEN,
        secret_key=FUZZ_SECRET,
    )


APP_SLOT = _AppSlot(create_app(_settings("sqlite://")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP_SLOT, config=FUZZ_CONFIG)


async def _seed_and_find_admin(database_url: str) -> int:
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await seed_demo_data(session, anchor=date.today() - timedelta(days=1), customers=20, orders=60)
            admin_id = await session.scalar(select(Agent.id).where(Agent.role == AgentRole.ADMIN))
    finally:
        await engine.dispose()
    assert admin_id is not None
    return int(admin_id)


@pytest.fixture(scope="module")
def admin_token() -> Iterator[str]:
    """Plug a committing app on a fresh, seeded PostgreSQL database into the slot."""
    with temporary_postgres_database("crm_fuzz") as url:
        command.upgrade(alembic_config(url), "heads")
        admin_id = asyncio.run(_seed_and_find_admin(url))
        app = create_app(_settings(url))
        # Schemathesis drives the app from its own event loop: no pooled connections
        # may outlive the loop that opened them.
        engine = create_async_engine(to_async_url(url), poolclass=NullPool)
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        previous, APP_SLOT.app = APP_SLOT.app, app
        token, _ = issue_agent_token(
            agent_id=admin_id, role="admin", secret=FUZZ_SECRET, lifetime=timedelta(hours=2)
        )
        try:
            yield token
        finally:
            APP_SLOT.app = previous


def _assert_no_server_error(case: schemathesis.Case[Any], token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "detail"}, f"{where}: {response.text[:300]}"


@schema.parametrize()
def test_no_input_causes_a_server_error_for_the_service(
    case: schemathesis.Case[Any], admin_token: str
) -> None:
    _assert_no_server_error(case, SERVICE_TOKEN)


@schema.parametrize()
def test_no_input_causes_a_server_error_for_an_admin(case: schemathesis.Case[Any], admin_token: str) -> None:
    _assert_no_server_error(case, admin_token)
