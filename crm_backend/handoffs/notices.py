"""What the customer is told when an agent joins, leaves or closes their chat.

One `bot` event per notice. The widget (socket.io) gets a custom payload: Rasa's socket.io
output passes a custom payload's keys to `sio.emit`, so `{"data": {"handoff": ...}}` arrives
as the message `{"handoff": {"agent_name", "state"}}`, and the widget shows its own notice and
"Agent joined: NAME" in its header. Every other channel (Messenger, Telegram, WhatsApp,
Slack) gets the same news as a plain text line; their connectors would send a custom payload
as a raw platform message. The CRM stores the notice as a `system` message under its own
event id, so the echo from Rasa's event stream is recognised and not stored twice.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.conversations import service as conversation_service
from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.conversations.schemas import MessageCreate
from crm_backend.core.enums import Channel
from crm_backend.core.types import utcnow
from crm_backend.rasa.client import new_event_id

logger = logging.getLogger(__name__)

NoticeState = Literal["joined", "left", "closed"]
_LINES = {
    "joined": "{name} from our team has joined the chat.",
    "left": "{name} has left the chat.",
    "closed": "{name} has closed the chat.",
}


async def agent_display_name(session: AsyncSession, agent_id: int | None) -> str:
    """The agent's first name, which is all the customer is shown; "An agent" if unknown."""
    agent = await agents.get(session, agent_id) if agent_id else None
    words = agent.name.split() if agent else []
    return words[0][:60] if words else "An agent"


def notice_line(state: NoticeState, agent_name: str) -> str:
    """The notice as one line of text."""
    return _LINES[state].format(name=agent_name)


def notice_event(state: NoticeState, agent_name: str, *, channel: Channel, event_id: str) -> dict[str, Any]:
    """The `bot` event that tells the customer, shaped for their channel."""
    handoff = {"agent_name": agent_name, "state": state}
    line = notice_line(state, agent_name)
    # The metadata lets the event consumer record the echo as this same system message.
    metadata = {"crm_event_id": event_id, "crm_notice": {**handoff, "text": line}}
    event: dict[str, Any] = {"event": "bot", "timestamp": utcnow().timestamp(), "metadata": metadata}
    if channel is Channel.WEB:
        # No text: the widget words the notice itself, and a text would show it twice.
        event["data"] = {"custom": {"data": {"handoff": handoff}}}
    else:
        event["text"] = line
    return event


async def record_notice(
    session: AsyncSession, conversation: Conversation, event: dict[str, Any]
) -> tuple[Message, bool]:
    """Store a notice Rasa accepted as a system message; (message, created)."""
    notice = event["metadata"]["crm_notice"]
    return await conversation_service.record_event(
        session,
        sender_id=conversation.sender_id,
        data=MessageCreate(
            event_id=event["metadata"]["crm_event_id"],
            author=MessageAuthor.SYSTEM,
            text=notice["text"],
            channel=conversation.channel,
            payload={"handoff": {"agent_name": notice["agent_name"], "state": notice["state"]}},
        ),
    )


def new_notice(state: NoticeState, agent_name: str, conversation: Conversation) -> dict[str, Any]:
    """A notice event for this conversation, under a fresh id."""
    return notice_event(state, agent_name, channel=conversation.channel, event_id=new_event_id())
