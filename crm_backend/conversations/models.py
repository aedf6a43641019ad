"""Conversations on every channel and every message in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core.database import Base
from crm_backend.core.enums import Channel, string_enum
from crm_backend.core.types import UTCDateTime, utcnow


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    HANDED_OFF = "handed_off"
    CLOSED = "closed"


class MessageAuthor(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Conversation(Base):
    """One Rasa conversation (one sender id) on one channel."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Rasa's conversation id: how the bot, the event stream and the console refer to it.
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ConversationStatus] = mapped_column(
        string_enum(ConversationStatus), default=ConversationStatus.ACTIVE
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class Message(Base):
    """One message, in arrival order. `event_id` makes redelivered events harmless."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[MessageAuthor] = mapped_column(string_enum(MessageAuthor))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    text: Mapped[str] = mapped_column(Text, default="")
    # Buttons, images and other structured content of the message.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(100), index=True)
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    # Agents' notes to each other; never sent to the customer.
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
