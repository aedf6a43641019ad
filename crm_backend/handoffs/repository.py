"""All SQL about handoffs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.conversations.models import Conversation
from crm_backend.core.filters import where_equal
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from crm_backend.tickets.models import Ticket

OPEN_STATUSES = (HandoffStatus.WAITING, HandoffStatus.ASSIGNED)


async def get(session: AsyncSession, handoff_id: int) -> Handoff | None:
    """The handoff with this id, as the database has it now."""
    return await session.get(Handoff, handoff_id, populate_existing=True)


async def open_for_conversation(session: AsyncSession, conversation_id: int) -> Handoff | None:
    """The conversation's waiting or assigned handoff, if any."""
    return await session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.id)
        .limit(1)
    )


async def _update_where(session: AsyncSession, handoff_id: int, /, *conditions: Any, **values: Any) -> bool:
    # One conditional UPDATE: the database re-checks the conditions under the row's write
    # lock, so of two racing requests exactly one changes the row and the other sees none.
    changed = await session.scalar(
        update(Handoff)
        .where(Handoff.id == handoff_id, *conditions)
        .values(**values)
        .returning(Handoff.id)
        .execution_options(synchronize_session=False)
    )
    return changed is not None


async def update_if_status(
    session: AsyncSession, handoff_id: int, allowed: Iterable[HandoffStatus], /, **values: Any
) -> bool:
    """Apply `values` only if the handoff is still in one of the `allowed` statuses."""
    return await _update_where(session, handoff_id, Handoff.status.in_(list(allowed)), **values)


async def update_if_assigned(
    session: AsyncSession, handoff_id: int, expected_assignee_id: int | None, /, **values: Any
) -> bool:
    """Apply `values` only if the handoff is still assigned to `expected_assignee_id`."""
    return await _update_where(
        session,
        handoff_id,
        Handoff.status == HandoffStatus.ASSIGNED,
        Handoff.assignee_id == expected_assignee_id,
        **values,
    )


async def rate_if_unrated(
    session: AsyncSession, handoff_id: int, *, score: int, comment: str | None, at: datetime
) -> bool:
    """Store the CSAT of a resolved handoff, unless it already has one."""
    return await _update_where(
        session,
        handoff_id,
        Handoff.status == HandoffStatus.RESOLVED,
        Handoff.csat_score.is_(None),
        csat_score=score,
        csat_comment=comment,
        csat_at=at,
    )


async def complete_rating(
    session: AsyncSession, handoff_id: int, *, score: int | None, comment: str | None, at: datetime
) -> bool:
    """Add the comment (and a changed score) to a rated handoff whose comment is still open."""
    values: dict[str, Any] = {"csat_comment": comment, "csat_at": at}
    if score is not None:
        values["csat_score"] = score
    return await _update_where(
        session,
        handoff_id,
        Handoff.status == HandoffStatus.RESOLVED,
        Handoff.csat_score.is_not(None),
        Handoff.csat_comment.is_(None),
        **values,
    )


async def note_first_response(session: AsyncSession, conversation_id: int, at: datetime) -> None:
    """Stamp first_response_at on the conversation's assigned handoff, unless already stamped."""
    await session.execute(
        update(Handoff)
        .where(
            Handoff.conversation_id == conversation_id,
            Handoff.status == HandoffStatus.ASSIGNED,
            Handoff.first_response_at.is_(None),
        )
        .values(first_response_at=at)
        .execution_options(synchronize_session=False)
    )


async def queue_position(session: AsyncSession, handoff: Handoff) -> int:
    """1-based place among waiting handoffs, first come first served."""
    ahead = await session.scalar(
        select(func.count(Handoff.id)).where(
            Handoff.status == HandoffStatus.WAITING,
            or_(
                Handoff.requested_at < handoff.requested_at,
                and_(Handoff.requested_at == handoff.requested_at, Handoff.id < handoff.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def filtered(
    *,
    status: HandoffStatus | None,
    reason: HandoffReason | None,
    assignee_id: int | None,
    customer_id: int | None,
    sender_id: str | None,
) -> Select[Any]:
    """Waiting handoffs oldest first (the queue), then all others newest first."""
    waiting = Handoff.status == HandoffStatus.WAITING
    statement = select(Handoff).order_by(
        case((waiting, 0), else_=1),
        case((waiting, Handoff.requested_at)),
        Handoff.requested_at.desc(),
        case((waiting, Handoff.id), else_=-Handoff.id),
    )
    if customer_id is not None or sender_id is not None:
        statement = statement.join(Conversation, Conversation.id == Handoff.conversation_id)
    return where_equal(
        statement,
        (Conversation.customer_id, customer_id),
        (Conversation.sender_id, sender_id),
        (Handoff.status, status),
        (Handoff.reason, reason),
        (Handoff.assignee_id, assignee_id),
    )


async def get_ticket(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket linked to a handoff."""
    return await session.get(Ticket, ticket_id)
