"""HTTP routes for conversations and their messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from crm_backend.auth.dependencies import CallerDep, ServiceDep
from crm_backend.conversations import repository, service
from crm_backend.conversations.models import ConversationStatus, MessageAuthor
from crm_backend.conversations.schemas import (
    MAX_DB_ID,
    SENDER_ID_PATTERN,
    BatchResult,
    ConversationRead,
    ConversationSummary,
    CustomerLink,
    MessageBatch,
    MessageCreate,
    MessageRead,
    UTCTimestamp,
)
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.enums import Channel
from crm_backend.core.errors import error_body
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.events import live
from crm_backend.events.live import LiveDep

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

SenderIdPath = Annotated[
    str,
    Path(min_length=1, max_length=255, pattern=SENDER_ID_PATTERN, description="Rasa's sender id"),
]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such conversation",
        "content": {
            "application/json": {"example": error_body("conversation_not_found", "No conversation with ...")}
        },
    }
}


@router.get("", response_model=Page[ConversationSummary])
async def list_conversations(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    channel: Channel | None = None,
    status: ConversationStatus | None = None,
    updated_since: Annotated[UTCTimestamp | None, Query(description="Last message at or after")] = None,
) -> Page[ConversationSummary]:
    """Conversations, most recently active first."""
    statement = repository.filtered(
        customer_id=customer_id, channel=channel, status=status, updated_since=updated_since
    )
    return await paginate(session, statement, page, ConversationSummary)


@router.get("/{sender_id}", response_model=ConversationRead, responses=_NOT_FOUND)
async def get_conversation(
    sender_id: SenderIdPath, session: SessionDep, caller: CallerDep
) -> ConversationRead:
    """The conversation and its latest 200 messages, oldest first (internal notes for agents only)."""
    conversation = await service.get_conversation(session, sender_id)
    return await service.to_read(session, conversation, viewer=caller)


@router.get("/{sender_id}/messages", response_model=Page[MessageRead], responses=_NOT_FOUND)
async def list_messages(
    sender_id: SenderIdPath,
    session: SessionDep,
    page: PageDep,
    caller: CallerDep,
    author: MessageAuthor | None = None,
) -> Page[MessageRead]:
    """Every message, oldest first (internal notes for agents only)."""
    conversation = await service.get_conversation(session, sender_id)
    statement = repository.messages_of(conversation.id, include_internal=caller.is_agent, author=author)
    return await paginate(session, statement, page, MessageRead)


@router.post(
    "/{sender_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": MessageRead, "description": "Already stored (same event_id): nothing new"}},
)
async def append_message(
    sender_id: SenderIdPath,
    payload: MessageCreate,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    updates: LiveDep,
) -> MessageRead:
    """Append a message, creating the conversation if needed; a repeated event_id stores nothing.

    The service posts customer, bot and system messages; agents post their own replies and
    internal notes. A new message is announced on /api/live (`message.created`). Replies
    meant for the customer go through POST /api/handoffs/{id}/messages, which delivers them.
    """
    message, created = await service.append_message(session, sender_id=sender_id, data=payload, actor=caller)
    if created:
        updates.add(live.message_created(sender_id, message))
    else:
        response.status_code = status.HTTP_200_OK
    return MessageRead.model_validate(message)


@router.post("/{sender_id}/messages/batch", response_model=BatchResult)
async def append_batch(
    sender_id: SenderIdPath, payload: MessageBatch, session: SessionDep, caller: ServiceDep, updates: LiveDep
) -> BatchResult:
    """Append 1-500 messages in order, all or nothing; already stored event ids are skipped.

    Each new message is announced on /api/live (`message.created`), in order.
    """
    stored, duplicates = await service.append_batch(
        session, sender_id=sender_id, messages=payload.root, actor=caller
    )
    updates.add(*(live.message_created(sender_id, message) for message in stored))
    return BatchResult(stored=len(stored), duplicates=duplicates)


@router.put("/{sender_id}/customer", response_model=ConversationSummary, responses=_NOT_FOUND)
async def link_customer(
    sender_id: SenderIdPath, payload: CustomerLink, session: SessionDep, caller: CallerDep
) -> ConversationSummary:
    """Link the conversation to a known customer."""
    conversation = await service.link_customer(
        session, sender_id=sender_id, customer_id=payload.customer_id, actor=caller
    )
    return ConversationSummary.model_validate(conversation)
