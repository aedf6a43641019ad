"""Agent joined/left/closed notices and the typing indicator, on the CRM's side.

Delivery through a real Rasa to a real socket.io customer is in tests/e2e/test_handoff_notices.py.
"""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent
from crm_backend.conversations import service as conversations
from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.events.mapping import MessageEvent, parse_entry
from crm_backend.handoffs.models import HandoffStatus
from crm_backend.handoffs.notices import agent_display_name, notice_event, record_notice
from crm_backend.rasa.client import RasaClient
from devstack.services import free_port
from tests.crm_backend.conversations.factories import make_conversation
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff


@pytest.fixture
def rasa_down(app: FastAPI) -> RasaClient:
    """A Rasa client aimed at a port where nothing listens."""
    client = RasaClient(f"http://127.0.0.1:{free_port()}", token="t", timeout=2)
    app.state.rasa = client
    return client


async def _messages(session: AsyncSession, conversation_id: int) -> list[Message]:
    return list(await session.scalars(select(Message).where(Message.conversation_id == conversation_id)))


def test_the_widget_gets_a_custom_payload_that_socketio_emits_as_the_handoff_message():
    event = notice_event("joined", "Alex", channel=Channel.WEB, event_id="e1")

    # Rasa's SocketIOOutput.send_custom_json calls sio.emit(event_name, **custom): its `data`
    # is what the widget receives, and widget/src/messages.js reads `handoff` from it.
    assert event["data"]["custom"] == {"data": {"handoff": {"agent_name": "Alex", "state": "joined"}}}
    assert "text" not in event  # the widget words the notice; a text would show it twice


@pytest.mark.parametrize("channel", [Channel.MESSENGER, Channel.TELEGRAM, Channel.WHATSAPP, Channel.SLACK])
def test_other_channels_get_a_plain_line(channel: Channel):
    event = notice_event("joined", "Alex", channel=channel, event_id="e1")

    assert event["text"] == "Alex from our team has joined the chat."
    assert "data" not in event  # their connectors would send a custom payload as a raw message


def test_the_echo_of_a_notice_is_a_system_message_not_bot_or_customer_text():
    event = {**notice_event("left", "Alex", channel=Channel.WEB, event_id="crm-1"), "sender_id": "s-1"}

    recorded = parse_entry("1-0", {"event": json.dumps(event)})

    assert isinstance(recorded, MessageEvent)
    assert recorded.data.author is MessageAuthor.SYSTEM
    assert recorded.data.text == "Alex has left the chat."
    assert recorded.data.event_id == "crm-1"
    assert recorded.data.payload == {"handoff": {"agent_name": "Alex", "state": "left"}}


async def test_a_notice_stored_by_the_crm_is_not_stored_again_when_its_echo_arrives(session: AsyncSession):
    conversation = await make_conversation(session)
    event = notice_event("joined", "Alex", channel=conversation.channel, event_id="crm-echo-1")
    first, created = await record_notice(session, conversation, event)
    recorded = parse_entry("1-0", {"event": json.dumps({**event, "sender_id": conversation.sender_id})})
    assert isinstance(recorded, MessageEvent)

    echo, echo_created = await conversations.record_event(
        session, sender_id=recorded.sender_id, data=recorded.data, inherit_channel=True
    )

    assert (created, echo_created) == (True, False)
    assert echo.id == first.id
    assert [m.author for m in await _messages(session, conversation.id)] == [MessageAuthor.SYSTEM]


async def test_a_claim_succeeds_while_rasa_is_down_and_stores_no_notice(
    agent_client, session, agent, rasa_down, caplog
):
    handoff = await make_handoff(session)

    with caplog.at_level(logging.WARNING, logger="crm_backend.handoffs.relay"):
        response = await agent_client.post(f"/api/handoffs/{handoff.id}/claim")

    assert response.status_code == 200
    assert response.json()["status"] == "assigned"
    assert await _messages(session, handoff.conversation_id) == []
    assert "not told an agent joined" in caplog.text


async def test_a_transfer_succeeds_while_rasa_is_down(agent_client, session, agent: Agent, rasa_down):
    colleague = await make_agent(session)
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)

    response = await agent_client.post(
        f"/api/handoffs/{handoff.id}/transfer", json={"agent_id": colleague.id}
    )

    assert response.status_code == 200
    assert response.json()["assignee_id"] == colleague.id


async def test_typing_is_accepted_while_rasa_is_down_and_stores_nothing(
    agent_client, session, agent, rasa_down
):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/typing", json={"typing": True})

    assert response.status_code == 204
    assert await _messages(session, handoff.conversation_id) == []


async def test_only_the_assignee_may_show_typing(agent_client, session, rasa_down):
    colleague = await make_agent(session)
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=colleague.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/typing", json={"typing": True})

    assert response.status_code == 403
    assert response.json()["error"] == "not_handoff_assignee"


@pytest.mark.parametrize("body", [{}, {"typing": "yes"}, {"typing": 1}, {"typing": None}])
async def test_typing_needs_a_boolean(agent_client, session, agent, rasa_down, body):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/typing", json=body)

    assert response.status_code == 422
    assert set(response.json()) >= {"error", "detail"}


async def test_the_notice_names_the_agent_by_first_name(session: AsyncSession):
    agent = await make_agent(session, name="Alex Morgan")
    conversation: Conversation = await make_conversation(session)
    handoff = await make_handoff(
        session, conversation=conversation, status=HandoffStatus.ASSIGNED, assignee_id=agent.id
    )
    assert await agent_display_name(session, handoff.assignee_id) == "Alex"
    assert await agent_display_name(session, None) == "An agent"
