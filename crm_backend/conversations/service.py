"""Business rules for conversations: appending messages idempotently, reading, linking customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.audit.service import diff, record
from crm_backend.auth.dependencies import Forbidden
from crm_backend.auth.principal import SYSTEM_PRINCIPAL, Principal
from crm_backend.conversations import repository
from crm_backend.conversations.models import Conversation, ConversationStatus, Message, MessageAuthor
from crm_backend.conversations.schemas import (
    ConversationRead,
    ConversationSummary,
    MessageCreate,
    MessageRead,
)
from crm_backend.core.enums import ActorKind
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.types import utcnow
from crm_backend.customers.service import CustomerNotFound
from crm_backend.handoffs.service import note_agent_reply

# How many messages the conversation view carries; older ones are paged through /messages.
LATEST_MESSAGES = 200
SERVICE_AUTHORS = frozenset({MessageAuthor.CUSTOMER, MessageAuthor.BOT, MessageAuthor.SYSTEM})


class ConversationNotFound(NotFound):
    error = "conversation_not_found"


class AuthorNotAllowed(Forbidden):
    error = "author_not_allowed"


class InternalNoteNotAllowed(Forbidden):
    error = "internal_note_not_allowed"


class EventIdConflict(Conflict):
    error = "event_id_conflict"


async def get_conversation(session: AsyncSession, sender_id: str) -> Conversation:
    """The conversation, or 404."""
    conversation = await repository.get_by_sender(session, sender_id)
    if conversation is None:
        raise ConversationNotFound(f"No conversation with sender id {sender_id!r}.")
    return conversation


async def to_read(
    session: AsyncSession, conversation: Conversation, *, viewer: Principal
) -> ConversationRead:
    """The conversation with its latest messages; internal notes only for agents."""
    messages = await repository.latest_messages(
        session, conversation.id, include_internal=viewer.is_agent, limit=LATEST_MESSAGES
    )
    return ConversationRead(
        **ConversationSummary.model_validate(conversation).model_dump(),
        messages=[MessageRead.model_validate(m) for m in messages],
    )


def _check_author(data: MessageCreate, actor: Principal) -> None:
    """The service speaks for the customer, the bot and the system; agents only for themselves."""
    if actor.is_agent and data.author is not MessageAuthor.AGENT:
        raise AuthorNotAllowed("Agents may only post messages with author 'agent'.")
    if not actor.is_agent and data.author not in SERVICE_AUTHORS:
        raise AuthorNotAllowed("The service may only post customer, bot or system messages.")
    if data.is_internal and not actor.is_agent:
        raise InternalNoteNotAllowed("Only agents may write internal notes.")


def _row(data: MessageCreate, conversation_id: int, actor: Principal, sent_at: datetime) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "event_id": data.event_id,
        "author": data.author,
        # Taken from the token, never from the payload: an agent cannot speak as a colleague.
        "agent_id": actor.agent_id if data.author is MessageAuthor.AGENT else None,
        "channel": data.channel,
        "text": data.text,
        "payload": data.payload,
        "intent": data.intent,
        "intent_confidence": data.intent_confidence,
        "is_internal": data.is_internal,
        "sent_at": sent_at,
        "stored_at": utcnow(),
    }


async def append_message(
    session: AsyncSession, *, sender_id: str, data: MessageCreate, actor: Principal
) -> tuple[Message, bool]:
    """Store one message (creating the conversation if needed); (message, created).

    A redelivered event (same event_id in the conversation) stores nothing and returns the
    message stored the first time.
    """
    _check_author(data, actor)
    return await _store(session, sender_id=sender_id, data=data, actor=actor)


async def record_event(
    session: AsyncSession,
    *,
    sender_id: str,
    data: MessageCreate,
    agent_id: int | None = None,
    inherit_channel: bool = False,
) -> tuple[Message, bool]:
    """Store a message that came on Rasa's event stream; (message, created).

    `agent_id` marks an agent's reply echoed back by Rasa (kept only if the agent exists);
    `inherit_channel` takes the channel of the conversation, for bot events that carry none.
    """
    if inherit_channel:
        existing = await repository.get_by_sender(session, sender_id)
        if existing is not None:
            data = data.model_copy(update={"channel": existing.channel})
    actor = SYSTEM_PRINCIPAL
    if agent_id is not None and data.author is MessageAuthor.AGENT and await agents.get(session, agent_id):
        actor = Principal(kind=ActorKind.AGENT, id=str(agent_id), agent_id=agent_id)
    return await _store(session, sender_id=sender_id, data=data, actor=actor)


async def record_status(session: AsyncSession, *, sender_id: str, status: ConversationStatus) -> bool:
    """Set the status of a conversation known from the event stream; whether it changed."""
    conversation = await repository.get_by_sender(session, sender_id)
    if conversation is None:
        return False
    return await repository.change_status(session, conversation.id, status)


async def _store(
    session: AsyncSession, *, sender_id: str, data: MessageCreate, actor: Principal
) -> tuple[Message, bool]:
    sent_at = data.sent_at or utcnow()
    conversation = await repository.get_or_create(
        session, sender_id=sender_id, channel=data.channel, started_at=sent_at
    )
    message_id = await repository.insert_message(session, _row(data, conversation.id, actor, sent_at))
    if message_id is None:
        assert data.event_id is not None  # only event ids can collide
        stored = await repository.get_message_by_event(session, conversation.id, data.event_id)
        assert stored is not None
        if stored.is_internal and not actor.is_agent:
            raise EventIdConflict(f"Event {data.event_id!r} is already used in this conversation.")
        return stored, False
    await repository.count_new_messages(session, conversation.id, added=1, latest_sent_at=sent_at)
    if data.author is MessageAuthor.AGENT and not data.is_internal:
        await note_agent_reply(session, conversation_id=conversation.id, at=sent_at)
    message = await repository.get_message(session, message_id)
    assert message is not None
    return message, True


async def append_batch(
    session: AsyncSession, *, sender_id: str, messages: list[MessageCreate], actor: Principal
) -> tuple[list[Message], int]:
    """Store messages in the given order, all or nothing; (the new messages, duplicates)."""
    for data in messages:
        _check_author(data, actor)
    now = utcnow()
    sent = [data.sent_at or now for data in messages]
    conversation = await repository.get_or_create(
        session, sender_id=sender_id, channel=messages[0].channel, started_at=min(sent)
    )
    stored_at: list[datetime] = []
    new_ids: list[int] = []
    for data, sent_at in zip(messages, sent, strict=True):
        message_id = await repository.insert_message(session, _row(data, conversation.id, actor, sent_at))
        if message_id is not None:
            stored_at.append(sent_at)
            new_ids.append(message_id)
    if stored_at:
        await repository.count_new_messages(
            session, conversation.id, added=len(stored_at), latest_sent_at=max(stored_at)
        )
    stored = [await repository.get_message(session, message_id) for message_id in new_ids]
    return [message for message in stored if message is not None], len(messages) - len(new_ids)


async def link_customer(
    session: AsyncSession, *, sender_id: str, customer_id: int, actor: Principal
) -> Conversation:
    """Say which customer is talking in this conversation."""
    conversation = await get_conversation(session, sender_id)
    if not await repository.customer_exists(session, customer_id):
        raise CustomerNotFound(f"No customer with id {customer_id}.")
    changes = diff({"customer_id": conversation.customer_id}, {"customer_id": customer_id})
    conversation.customer_id = customer_id
    await session.flush()
    await record(
        session, actor=actor, action="conversation.link_customer", entity_type="conversation",
        entity_id=conversation.id, changes=changes,
    )  # fmt: skip
    return conversation
