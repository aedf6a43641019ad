"""Handoffs: a conversation waiting for, or being worked by, a human agent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.enums import string_enum
from crm_backend.core.types import UTCDateTime, utcnow


class HandoffStatus(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"


class HandoffReason(StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    REPEATED_FALLBACK = "repeated_fallback"
    COMPLAINT = "complaint"
    VERIFICATION_LOCKOUT = "verification_lockout"
    FRUSTRATION = "frustration"
    OTHER = "other"


class Handoff(Base):
    """One escalation of a conversation to the human queue."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[HandoffReason] = mapped_column(string_enum(HandoffReason, length=30))
    status: Mapped[HandoffStatus] = mapped_column(
        string_enum(HandoffStatus), default=HandoffStatus.WAITING, index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # What the bot knew: last intent, slots, the order in question.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
