"""Claiming is atomic: of twenty agents claiming one handoff at the same moment, exactly one wins.

This runs on committed data through the real app (its own engine, pool and per-request
transactions), not inside the rolled-back test transaction, so the requests really race.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_backend.agents.models import Agent
from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import Conversation
from crm_backend.core.config import Settings, to_async_url
from crm_backend.core.database import create_engine, create_session_factory
from crm_backend.handoffs.models import Handoff, HandoffStatus
from crm_backend.main import create_app
from tests.crm_backend.conftest import agent_token
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff

CLAIMANTS = 20


@pytest.fixture
async def committed_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own, whose sessions really commit."""
    engine = create_engine(to_async_url(database_url))
    yield engine
    await engine.dispose()


async def _claim_all_at_once(
    settings: Settings, handoff_id: int, agents: list[Agent]
) -> list[httpx.Response]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as http:

            async def claim(agent: Agent) -> httpx.Response:
                headers = {"Authorization": f"Bearer {agent_token(settings, agent)}"}
                return await http.post(f"/api/handoffs/{handoff_id}/claim", headers=headers)

            return list(await asyncio.gather(*(claim(agent) for agent in agents)))


async def test_twenty_concurrent_claims_have_exactly_one_winner(committed_engine, settings):
    sessions = create_session_factory(committed_engine)
    async with sessions() as session:
        agents = [await make_agent(session) for _ in range(CLAIMANTS)]
        handoff = await make_handoff(session)
        await session.commit()
    try:
        responses = await _claim_all_at_once(settings, handoff.id, agents)

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * (CLAIMANTS - 1), [
            r.text for r in responses if r.status_code >= 500
        ]
        assert {r.json()["error"] for r in responses if r.status_code == 409} == {"handoff_already_claimed"}
        winner = next(r.json()["assignee_id"] for r in responses if r.status_code == 200)
        async with sessions() as session:
            stored = await session.get(Handoff, handoff.id)
            assert stored is not None
            assert stored.status == HandoffStatus.ASSIGNED
            assert stored.assignee_id == winner
            claims = await session.scalar(
                select(func.count()).where(
                    AuditEntry.action == "handoff.claim", AuditEntry.entity_id == str(handoff.id)
                )
            )
            assert claims == 1
    finally:
        async with sessions() as session:
            await session.execute(
                delete(AuditEntry).where(
                    AuditEntry.entity_type == "handoff", AuditEntry.entity_id == str(handoff.id)
                )
            )
            await session.execute(delete(Handoff).where(Handoff.id == handoff.id))
            await session.execute(delete(Conversation).where(Conversation.id == handoff.conversation_id))
            await session.execute(delete(Agent).where(Agent.id.in_([agent.id for agent in agents])))
            await session.commit()
