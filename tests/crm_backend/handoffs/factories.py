"""Factories for handoffs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation, ConversationStatus
from crm_backend.core.types import utcnow
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from tests.crm_backend.conversations.factories import make_conversation


async def make_handoff(
    session: AsyncSession, *, conversation: Conversation | None = None, **overrides: Any
) -> Handoff:
    """A waiting handoff (of a new handed-off conversation unless one is given)."""
    conversation = conversation or await make_conversation(session, status=ConversationStatus.HANDED_OFF)
    fields: dict[str, Any] = {
        "conversation_id": conversation.id,
        "reason": HandoffReason.CUSTOMER_REQUEST,
        "status": HandoffStatus.WAITING,
        "summary": {"intent": "order_status"},
        "requested_at": utcnow(),
    }
    fields.update(overrides)
    if fields["status"] in (HandoffStatus.ASSIGNED, HandoffStatus.RESOLVED) and "claimed_at" not in fields:
        fields["claimed_at"] = fields["requested_at"]
    handoff = Handoff(**fields)
    session.add(handoff)
    await session.flush()
    return handoff
