"""What agents say and do that reaches the customer through Rasa: replies, hand-back, closing.

Each function changes the database first (flushed, not committed), then calls Rasa. If Rasa
cannot be reached it raises RasaUnavailable (503), the request's transaction rolls back, and
nothing happened: no stored reply the customer never got, no handoff closed while the bot
stays paused. The console keeps the agent's text to send again. If Rasa did receive an event
whose answer was lost, Rasa records it and the event stream brings it to the CRM anyway.

Claims and transfers are the exception: they are the CRM's own business and succeed with Rasa
down. Their "agent joined" notice (handoffs/notices.py) is then best-effort: not sent, logged,
and not stored either, so the record never shows a notice the customer did not get.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.auth.principal import Principal
from crm_backend.conversations import repository as conversations
from crm_backend.conversations import service as conversation_service
from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.conversations.schemas import MessageCreate
from crm_backend.core.enums import Channel
from crm_backend.handoffs import service
from crm_backend.handoffs.models import Handoff
from crm_backend.handoffs.notices import NoticeState, agent_display_name, new_notice, record_notice
from crm_backend.rasa.client import (
    RasaClient,
    RasaUnavailable,
    agent_line,
    hand_back_events,
    new_event_id,
    satisfaction_events,
)

logger = logging.getLogger(__name__)


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
) -> tuple[Handoff, Message | None]:
    """Hand the conversation back to the bot, and tell the customer."""
    handoff = await service.release(session, handoff_id=handoff_id, actor=actor)
    notice = await _tell(session, handoff, rasa, "left", hand_back_events()) if rasa is not None else None
    return handoff, notice


async def resolve(
    session: AsyncSession, *, handoff_id: int, actor: Principal, rasa: RasaClient | None
) -> tuple[Handoff, Message | None]:
    """Close the handoff, resume the bot and ask the customer's satisfaction."""
    handoff = await service.resolve(session, handoff_id=handoff_id, actor=actor)
    notice = (
        await _tell(session, handoff, rasa, "closed", satisfaction_events()) if rasa is not None else None
    )
    return handoff, notice


async def claim(
    session: AsyncSession, *, handoff_id: int, actor: Principal, rasa: RasaClient | None
) -> tuple[Handoff, Message | None]:
    """Take a waiting handoff and tell the customer who joined; (handoff, the stored notice)."""
    handoff = await service.claim(session, handoff_id=handoff_id, actor=actor)
    return handoff, await _tell_if_possible(session, handoff, rasa)


async def transfer(
    session: AsyncSession, *, handoff_id: int, agent_id: int, actor: Principal, rasa: RasaClient | None
) -> tuple[Handoff, Message | None]:
    """Pass the handoff to another agent and tell the customer who joined; (handoff, notice)."""
    before = await service.get_handoff(session, handoff_id)
    previous = before.assignee_id
    handoff = await service.transfer(session, handoff_id=handoff_id, agent_id=agent_id, actor=actor)
    if handoff.assignee_id == previous:
        return handoff, None
    return handoff, await _tell_if_possible(session, handoff, rasa)


async def show_typing(
    session: AsyncSession, *, handoff_id: int, typing: bool, actor: Principal, rasa: RasaClient | None
) -> bool:
    """Show or hide the assignee's typing in the customer's widget; whether it was passed on.

    Only the web widget shows it; nothing is stored, here or in Rasa's tracker.
    """
    handoff = await service.assigned_to_caller(session, handoff_id, actor)
    conversation = await _conversation(session, handoff)
    if rasa is None or conversation.channel is not Channel.WEB:
        return False
    return await rasa.send_typing(conversation.sender_id, typing=typing)


async def _tell(
    session: AsyncSession,
    handoff: Handoff,
    rasa: RasaClient,
    state: NoticeState,
    then: list[dict[str, Any]] | None = None,
) -> Message:
    """Send the notice (with `then` in the same call) and store it once Rasa has it."""
    conversation = await _conversation(session, handoff)
    event = new_notice(state, await agent_display_name(session, handoff.assignee_id), conversation)
    await rasa.append_events(conversation.sender_id, [event, *(then or [])])
    message, _ = await record_notice(session, conversation, event)
    return message


async def _tell_if_possible(
    session: AsyncSession, handoff: Handoff, rasa: RasaClient | None
) -> Message | None:
    if rasa is None:
        return None
    try:
        return await _tell(session, handoff, rasa, "joined")
    except RasaUnavailable as error:
        logger.warning("handoff %s: the customer was not told an agent joined: %s", handoff.id, error)
        return None
