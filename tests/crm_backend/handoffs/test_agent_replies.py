"""Agent replies, hand-back and closing when Rasa cannot be reached: refused whole, never half-done.

The delivered path (Rasa up) runs end to end in tests/e2e/test_handoff_pipeline.py.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation, ConversationStatus, Message
from crm_backend.handoffs.models import Handoff, HandoffStatus
from crm_backend.rasa.client import RasaClient, satisfaction_events
from devstack.services import free_port
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff


@pytest.fixture
def rasa_down(app: FastAPI) -> RasaClient:
    """A Rasa client aimed at a port where nothing listens."""
    client = RasaClient(f"http://127.0.0.1:{free_port()}", token="t", timeout=2)
    app.state.rasa = client
    return client


async def _assigned(session: AsyncSession, assignee_id: int) -> Handoff:
    return await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=assignee_id)


async def _message_count(session: AsyncSession, handoff: Handoff) -> int:
    count = await session.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == handoff.conversation_id)
    )
    return int(count or 0)


async def test_a_reply_while_rasa_is_down_is_503_and_stores_nothing(agent_client, session, agent, rasa_down):
    handoff = await _assigned(session, agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "On it!"})

    assert response.status_code == 503
    assert response.json()["error"] == "rasa_unavailable"
    assert await _message_count(session, handoff) == 0


async def test_a_reply_without_a_configured_rasa_is_503(agent_client, session, agent, app):
    app.state.rasa = None
    handoff = await _assigned(session, agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "On it!"})

    assert response.status_code == 503
    assert "CRM_RASA_URL" in response.json()["detail"]


async def test_only_the_assignee_may_reply(agent_client, session, rasa_down):
    colleague = await make_agent(session)
    handoff = await _assigned(session, colleague.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "mine now"})

    assert response.status_code == 403
    assert response.json()["error"] == "not_handoff_assignee"


async def test_a_waiting_handoff_cannot_be_replied_to(agent_client, session, rasa_down):
    handoff = await make_handoff(session)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "hello"})

    assert response.status_code == 409


@pytest.mark.parametrize(
    "body", [{"text": "   "}, {"text": ""}, {}, {"text": "x" * 20_001}, {"text": "a\x00b"}]
)
async def test_a_bad_reply_is_422(agent_client, session, agent, rasa_down, body):
    handoff = await _assigned(session, agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/messages", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_the_service_token_cannot_reply(client, session, agent, rasa_down):
    handoff = await _assigned(session, agent.id)

    response = await client.post(f"/api/handoffs/{handoff.id}/messages", json={"text": "hello"})

    assert response.status_code == 403


@pytest.mark.parametrize("action", ["release", "resolve"])
async def test_closing_while_rasa_is_down_changes_nothing(agent_client, session, agent, rasa_down, action):
    handoff = await _assigned(session, agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/{action}")

    assert response.status_code == 503
    assert response.json()["error"] == "rasa_unavailable"
    await session.refresh(handoff)
    assert handoff.status is HandoffStatus.ASSIGNED
    conversation = await session.get(Conversation, handoff.conversation_id, populate_existing=True)
    assert conversation is not None
    assert conversation.status is ConversationStatus.HANDED_OFF


def test_the_satisfaction_question_offers_scores_1_to_5():
    resume, question, listen = satisfaction_events()
    assert resume["event"] == "resume"
    assert (listen["event"], listen["name"]) == ("action", "action_listen")
    assert question["text"] == "How satisfied are you with the help you got? (1 = not at all, 5 = very)"
    payloads = [button["payload"] for button in question["data"]["buttons"]]
    assert payloads == [f'/rate_service{{"csat_score": {n}}}' for n in range(1, 6)]
