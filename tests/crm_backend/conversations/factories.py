"""Factories for conversations and their messages."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.core.types import utcnow


async def make_conversation(session: AsyncSession, **overrides: Any) -> Conversation:
    """A conversation with a unique sender id and no messages."""
    now = utcnow()
    fields: dict[str, Any] = {
        "sender_id": f"sender-{uuid.uuid4().hex[:12]}",
        "channel": Channel.WEB,
        "started_at": now,
        "last_message_at": now,
        "message_count": 0,
    }
    fields.update(overrides)
    conversation = Conversation(**fields)
    session.add(conversation)
    await session.flush()
    return conversation


async def make_message(session: AsyncSession, conversation: Conversation, **overrides: Any) -> Message:
    """A customer message in `conversation` (counters are not touched)."""
    fields: dict[str, Any] = {
        "conversation_id": conversation.id,
        "author": MessageAuthor.CUSTOMER,
        "channel": conversation.channel,
        "text": "hello",
        "sent_at": utcnow(),
    }
    fields.update(overrides)
    message = Message(**fields)
    session.add(message)
    await session.flush()
    return message


def message_body(**overrides: Any) -> dict[str, Any]:
    """A valid JSON body for POST /api/conversations/{sender_id}/messages."""
    body: dict[str, Any] = {"author": "customer", "channel": "web", "text": "where is my order?"}
    body.update(overrides)
    return body
