"""Factories for tickets and the conversations they link to."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation
from crm_backend.core.enums import ActorKind, Channel
from crm_backend.core.types import utcnow
from crm_backend.tickets.models import Ticket, TicketComment, TicketPriority, TicketStatus

# Far above what next_number hands out in a test, so factory tickets never collide with API ones.
_sequence = itertools.count(900_001)


async def make_ticket(session: AsyncSession, **overrides: Any) -> Ticket:
    now = utcnow()
    fields: dict[str, Any] = {
        "number": f"TCK-{next(_sequence)}",
        "subject": "Parcel has not arrived",
        "description": "",
        "category": "shipping",
        "priority": TicketPriority.NORMAL,
        "status": TicketStatus.NEW,
        "channel": Channel.WEB,
        "created_at": now,
        "updated_at": now,
        "sla_due_at": now + timedelta(hours=24),
        "comments": [],
    }
    fields.update(overrides)
    ticket = Ticket(**fields)
    session.add(ticket)
    await session.flush()
    return ticket


async def add_comment(session: AsyncSession, ticket: Ticket, body: str, *, is_public: bool) -> TicketComment:
    comment = TicketComment(ticket=ticket, author_kind=ActorKind.AGENT, body=body, is_public=is_public)
    session.add(comment)
    await session.flush()
    return comment


async def make_conversation(session: AsyncSession, **overrides: Any) -> Conversation:
    fields: dict[str, Any] = {"sender_id": f"sender-{next(_sequence)}", "channel": Channel.WEB}
    fields.update(overrides)
    conversation = Conversation(**fields)
    session.add(conversation)
    await session.flush()
    return conversation
