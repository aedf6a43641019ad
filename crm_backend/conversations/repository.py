"""All SQL about conversations and their messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation, ConversationStatus, Message, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.core.filters import where_equal
from crm_backend.core.types import UTCDateTime
from crm_backend.customers.models import Customer, CustomerIdentity


def _insert_or_ignore(session: AsyncSession, model: type[Any], conflict_on: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING: the database settles races, no savepoint needed."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_on)
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_on)
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect}")


async def get_by_sender(session: AsyncSession, sender_id: str) -> Conversation | None:
    """The conversation with this Rasa sender id."""
    return await session.scalar(
        select(Conversation)
        .where(Conversation.sender_id == sender_id)
        .execution_options(populate_existing=True)
    )


async def get(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """The conversation with this id, as the database has it now."""
    return await session.get(Conversation, conversation_id, populate_existing=True)


async def get_or_create(
    session: AsyncSession, *, sender_id: str, channel: Channel, started_at: datetime
) -> Conversation:
    """The conversation with this sender id, created first if missing (safe under concurrency).

    A sender whose channel identity is already attached to a customer starts out linked to them.
    """
    known_customer = (
        select(CustomerIdentity.customer_id)
        .where(CustomerIdentity.channel == channel, CustomerIdentity.external_id == sender_id)
        .scalar_subquery()
    )
    statement = _insert_or_ignore(session, Conversation, ["sender_id"]).values(
        sender_id=sender_id,
        channel=channel,
        customer_id=known_customer,
        status=ConversationStatus.ACTIVE,
        started_at=started_at,
        last_message_at=started_at,
        message_count=0,
    )
    await session.execute(statement)
    conversation = await get_by_sender(session, sender_id)
    assert conversation is not None  # inserted above, or by whoever won the race
    return conversation


async def get_many(session: AsyncSession, conversation_ids: Iterable[int]) -> dict[int, Conversation]:
    """Conversations by id."""
    ids = set(conversation_ids)
    if not ids:
        return {}
    rows = await session.scalars(select(Conversation).where(Conversation.id.in_(ids)))
    return {conversation.id: conversation for conversation in rows}


async def link_sender(session: AsyncSession, *, channel: Channel, sender_id: str, customer_id: int) -> int:
    """Link the unlinked conversation of this channel identity to the customer; how many were linked."""
    result = await session.execute(
        update(Conversation)
        .where(
            Conversation.sender_id == sender_id,
            Conversation.channel == channel,
            Conversation.customer_id.is_(None),
        )
        .values(customer_id=customer_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_status(session: AsyncSession, conversation_id: int, status: ConversationStatus) -> None:
    """Set the status with an UPDATE, which also row-locks the conversation until commit."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )


async def change_status(session: AsyncSession, conversation_id: int, status: ConversationStatus) -> bool:
    """Set the status unless it already is that; whether it changed."""
    changed = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status != status)
        .values(status=status)
        .returning(Conversation.id)
        .execution_options(synchronize_session=False)
    )
    return changed is not None


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Store a message; None when its (conversation, event_id) is already stored."""
    statement = _insert_or_ignore(session, Message, ["conversation_id", "event_id"]).values(**values)
    message_id: int | None = await session.scalar(statement.returning(Message.id))
    return message_id


async def get_message(session: AsyncSession, message_id: int) -> Message | None:
    """The message with this id."""
    return await session.get(Message, message_id)


async def get_message_by_event(session: AsyncSession, conversation_id: int, event_id: str) -> Message | None:
    """The message stored for this event of the conversation."""
    return await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.event_id == event_id)
    )


async def count_new_messages(
    session: AsyncSession, conversation_id: int, *, added: int, latest_sent_at: datetime
) -> None:
    """Add to the message count and move last_message_at forward, atomically in SQL."""
    latest = literal(latest_sent_at, UTCDateTime())
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            message_count=Conversation.message_count + added,
            last_message_at=case(
                (Conversation.last_message_at < latest, latest), else_=Conversation.last_message_at
            ),
        )
        .execution_options(synchronize_session=False)
    )


def filtered(
    *,
    customer_id: int | None,
    channel: Channel | None,
    status: ConversationStatus | None,
    updated_since: datetime | None,
) -> Select[Any]:
    """Conversations, most recently active first, narrowed by whichever filters are given."""
    statement = select(Conversation).order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    statement = where_equal(
        statement,
        (Conversation.customer_id, customer_id),
        (Conversation.channel, channel),
        (Conversation.status, status),
    )
    if updated_since is not None:
        statement = statement.where(Conversation.last_message_at >= updated_since)
    return statement


def messages_of(
    conversation_id: int, *, include_internal: bool, author: MessageAuthor | None = None
) -> Select[Any]:
    """A conversation's messages in arrival order."""
    statement = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    if not include_internal:
        statement = statement.where(Message.is_internal.is_(False))
    if author is not None:
        statement = statement.where(Message.author == author)
    return statement


async def latest_messages(
    session: AsyncSession, conversation_id: int, *, include_internal: bool, limit: int
) -> list[Message]:
    """The last `limit` messages, oldest first."""
    statement = messages_of(conversation_id, include_internal=include_internal)
    newest_first = await session.scalars(statement.order_by(None).order_by(Message.id.desc()).limit(limit))
    return list(reversed(newest_first.all()))


async def customer_exists(session: AsyncSession, customer_id: int) -> bool:
    """Whether a customer with this id exists."""
    return await session.scalar(select(Customer.id).where(Customer.id == customer_id)) is not None
