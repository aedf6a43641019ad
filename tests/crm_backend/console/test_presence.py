"""Presence as the console keeps it: renewed while open, gone on sign-out or when it goes silent."""

from __future__ import annotations

from datetime import timedelta

from crm_backend.agents.repository import PRESENCE_TIMEOUT
from crm_backend.core.types import utcnow
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff


async def test_only_agents_heard_from_lately_count_as_online(agent_client, session):
    await make_agent(session, last_seen_at=utcnow() - PRESENCE_TIMEOUT - timedelta(minutes=1))  # crashed
    await make_agent(session, last_seen_at=utcnow() - timedelta(minutes=1))  # renewed a minute ago
    await make_agent(session, is_online=False, last_seen_at=utcnow())  # signed out
    handoff = await make_handoff(session)

    renewed = await agent_client.put("/api/agents/me/presence", json={"is_online": True})
    while_open = await agent_client.get(f"/api/handoffs/{handoff.id}")
    await agent_client.put("/api/agents/me/presence", json={"is_online": False})
    after_sign_out = await agent_client.get(f"/api/handoffs/{handoff.id}")

    assert renewed.json()["is_online"] is True
    assert renewed.json()["last_seen_at"] is not None
    assert while_open.json()["agents_online"] == 2
    assert after_sign_out.json()["agents_online"] == 1
