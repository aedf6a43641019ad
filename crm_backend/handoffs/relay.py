"""What agents say and do that reaches the customer through Rasa: replies, hand-back, closing.

Each function changes the database first (flushed, not committed), then calls Rasa. If Rasa
cannot be reached it raises RasaUnavailable (503), the request's transaction rolls back, and
nothing happened: no stored reply the customer never got, no handoff closed while the bot
stays paused. The console keeps the agent's text to send again. If Rasa did receive an event
whose answer was lost, Rasa records it and the event stream brings it to the CRM anyway.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.auth.principal import Principal
from crm_backend.conversations import repository as conversations
from crm_backend.conversations import service as conversation_service
from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.conversations.schemas import MessageCreate
from crm_backend.handoffs import service
from crm_backend.handoffs.models import Handoff
from crm_backend.rasa.client import (
    RasaClient,
    RasaUnavailable,
    agent_line,
    hand_back_events,
    new_event_id,
    satisfaction_events,
)


def _require(rasa: RasaClient | None) -> RasaClient:
    if rasa is None:
        raise RasaUnavailable("The CRM is not connected to the assistant (CRM_RASA_URL is not set).")
    return rasa


async def _conversation(session: AsyncSession, handoff: Handoff) -> Conversation:
    conversation = await conversations.get(session, handoff.conversation_id)
    assert conversation is not None  # the foreign key cascades deletes
    return conversation


async def send_reply(
    session: AsyncSession, *, handoff_id: int, text: str, actor: Principal, rasa: RasaClient | None
) -> tuple[Conversation, Message]:
    """Store the assignee's reply and have Rasa deliver it on the customer's channel."""
    handoff = await service.assigned_to_caller(session, handoff_id, actor)
    client = _require(rasa)
    conversation = await _conversation(session, handoff)
    agent = await agents.get(session, actor.agent_id) if actor.agent_id else None
    event_id = new_event_id()
    message, _ = await conversation_service.append_message(
        session,
        sender_id=conversation.sender_id,
        data=MessageCreate(
            event_id=event_id, author=MessageAuthor.AGENT, text=text, channel=conversation.channel
        ),
        actor=actor,
    )
    await client.append_events(
        conversation.sender_id,
        [
            agent_line(
                text,
                event_id=event_id,
                agent_id=message.agent_id or 0,
                agent_name=agent.name if agent else "",
            )
        ],
    )
    return conversation, message


async def release(
    session: AsyncSession, *, handoff_id: int, actor: Principal, rasa: RasaClient | None
) -> Handoff:
    """Hand the conversation back to the bot, and tell the customer."""
    handoff = await service.release(session, handoff_id=handoff_id, actor=actor)
    if rasa is not None:
        await rasa.append_events((await _conversation(session, handoff)).sender_id, hand_back_events())
    return handoff


async def resolve(
    session: AsyncSession, *, handoff_id: int, actor: Principal, rasa: RasaClient | None
) -> Handoff:
    """Close the handoff, resume the bot and ask the customer's satisfaction."""
    handoff = await service.resolve(session, handoff_id=handoff_id, actor=actor)
    if rasa is not None:
        await rasa.append_events((await _conversation(session, handoff)).sender_id, satisfaction_events())
    return handoff
