"""Business rules for handoffs: the human queue, claiming, transfers, closing and CSAT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.agents.service import AgentNotFound
from crm_backend.audit.service import record
from crm_backend.auth.dependencies import Forbidden
from crm_backend.auth.principal import Principal
from crm_backend.conversations import repository as conversations
from crm_backend.conversations.models import ConversationStatus
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.pagination import Page, PageParams, fetch_page
from crm_backend.core.types import utcnow
from crm_backend.customers.service import CustomerNotFound
from crm_backend.handoffs import repository
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from crm_backend.handoffs.schemas import (
    CsatCreate,
    CsatUpdate,
    HandoffCreate,
    HandoffItem,
    HandoffRead,
    handoff_item,
    handoff_read,
)
from crm_backend.tickets.models import TicketStatus

OPEN_STATUSES = frozenset(repository.OPEN_STATUSES)


class HandoffNotFound(NotFound):
    error = "handoff_not_found"


class HandoffAlreadyClaimed(Conflict):
    error = "handoff_already_claimed"


class HandoffNotWaiting(Conflict):
    error = "handoff_not_waiting"


class HandoffNotAssigned(Conflict):
    error = "handoff_not_assigned"


class HandoffNotOpen(Conflict):
    error = "handoff_not_open"


class HandoffNotResolved(Conflict):
    error = "handoff_not_resolved"


class HandoffChanged(Conflict):
    error = "handoff_changed"


class CsatAlreadyGiven(Conflict):
    error = "csat_already_given"


class CsatNotGiven(Conflict):
    error = "csat_not_given"


class AgentInactive(Conflict):
    error = "agent_inactive"


class NotHandoffAssignee(Forbidden):
    error = "not_handoff_assignee"


async def get_handoff(session: AsyncSession, handoff_id: int) -> Handoff:
    """The handoff, or 404."""
    handoff = await repository.get(session, handoff_id)
    if handoff is None:
        raise HandoffNotFound(f"No handoff with id {handoff_id}.")
    return handoff


async def to_read(session: AsyncSession, handoff: Handoff) -> HandoffRead:
    """The full view: conversation fields, queue position and agents online."""
    conversation = await conversations.get(session, handoff.conversation_id)
    assert conversation is not None  # the foreign key cascades deletes
    position = (
        await repository.queue_position(session, handoff) if handoff.status is HandoffStatus.WAITING else None
    )
    return handoff_read(
        handoff,
        conversation,
        now=utcnow(),
        queue_position=position,
        agents_online=await agents.count_online(session),
    )


async def list_handoffs(
    session: AsyncSession,
    *,
    page: PageParams,
    status: HandoffStatus | None,
    reason: HandoffReason | None,
    assignee_id: int | None,
    customer_id: int | None,
    sender_id: str | None,
) -> Page[HandoffItem]:
    """The queue (waiting, oldest first), then every other handoff, newest first."""
    statement = repository.filtered(
        status=status, reason=reason, assignee_id=assignee_id, customer_id=customer_id, sender_id=sender_id
    )
    handoffs, total = await fetch_page(session, statement, page)
    by_id = await conversations.get_many(session, (h.conversation_id for h in handoffs))
    now = utcnow()
    return Page(
        items=[handoff_item(h, by_id[h.conversation_id], now=now) for h in handoffs],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def find_open(session: AsyncSession, *, sender_id: str) -> Handoff | None:
    """The conversation's waiting or assigned handoff, if any."""
    conversation = await conversations.get_by_sender(session, sender_id)
    return None if conversation is None else await repository.open_for_conversation(session, conversation.id)


async def create_handoff(
    session: AsyncSession, *, data: HandoffCreate, actor: Principal
) -> tuple[Handoff, bool]:
    """Queue the conversation for a human; an already open handoff is returned instead (created=False)."""
    if data.customer_id is not None and not await conversations.customer_exists(session, data.customer_id):
        raise CustomerNotFound(f"No customer with id {data.customer_id}.")
    now = utcnow()
    conversation = await conversations.get_or_create(
        session, sender_id=data.sender_id, channel=data.channel, started_at=now
    )
    # This UPDATE row-locks the conversation until commit: a concurrent request for the same
    # conversation waits here, then finds this request's handoff below instead of adding one.
    await conversations.set_status(session, conversation.id, ConversationStatus.HANDED_OFF)
    existing = await repository.open_for_conversation(session, conversation.id)
    if existing is not None:
        return existing, False
    changes: dict[str, Any] = {"sender_id": data.sender_id, "reason": data.reason.value}
    current = await conversations.get(session, conversation.id)
    assert current is not None
    if data.customer_id is not None and current.customer_id is None:
        current.customer_id = data.customer_id
        changes["customer_id"] = data.customer_id
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=data.reason,
        status=HandoffStatus.WAITING,
        summary=data.summary,
        requested_at=now,
    )
    session.add(handoff)
    await session.flush()
    await record(
        session, actor=actor, action="handoff.create", entity_type="handoff", entity_id=handoff.id,
        changes=changes,
    )  # fmt: skip
    return handoff, True


async def claim(session: AsyncSession, *, handoff_id: int, actor: Principal) -> Handoff:
    """Take a waiting handoff. Atomic: of any number of concurrent claims exactly one wins."""
    won = await repository.update_if_status(
        session,
        handoff_id,
        [HandoffStatus.WAITING],
        status=HandoffStatus.ASSIGNED,
        assignee_id=actor.agent_id,
        claimed_at=utcnow(),
    )
    handoff = await get_handoff(session, handoff_id)
    if not won:
        if handoff.status is HandoffStatus.ASSIGNED:
            raise HandoffAlreadyClaimed(f"Handoff {handoff_id} was already claimed by another agent.")
        raise HandoffNotWaiting(f"Handoff {handoff_id} is {handoff.status.value}, not waiting.")
    await record(
        session, actor=actor, action="handoff.claim", entity_type="handoff", entity_id=handoff_id,
        changes={"status": {"from": "waiting", "to": "assigned"}, "assignee_id": actor.agent_id},
    )  # fmt: skip
    return handoff


async def assigned_to_caller(session: AsyncSession, handoff_id: int, actor: Principal) -> Handoff:
    """The handoff if it is assigned and the caller is its assignee or an admin; else 409/403."""
    handoff = await get_handoff(session, handoff_id)
    if handoff.status is not HandoffStatus.ASSIGNED:
        raise HandoffNotAssigned(f"Handoff {handoff_id} is {handoff.status.value}, not assigned.")
    if not actor.is_admin and handoff.assignee_id != actor.agent_id:
        raise NotHandoffAssignee("Only the assigned agent or an admin may do this.")
    return handoff


async def _update_assigned(session: AsyncSession, handoff: Handoff, **values: Any) -> Handoff:
    """Apply `values` only if nobody changed the assignment since we read it."""
    won = await repository.update_if_assigned(session, handoff.id, handoff.assignee_id, **values)
    if not won:
        raise HandoffChanged(f"Handoff {handoff.id} changed meanwhile; reload it.")
    return await get_handoff(session, handoff.id)


async def transfer(session: AsyncSession, *, handoff_id: int, agent_id: int, actor: Principal) -> Handoff:
    """Hand an assigned handoff to another active agent."""
    handoff = await assigned_to_caller(session, handoff_id, actor)
    target = await agents.get(session, agent_id)
    if target is None:
        raise AgentNotFound(f"No agent with id {agent_id}.")
    if not target.is_active:
        raise AgentInactive(f"Agent {agent_id} is deactivated.")
    if target.id == handoff.assignee_id:
        return handoff
    previous = handoff.assignee_id
    handoff = await _update_assigned(session, handoff, assignee_id=target.id)
    await record(
        session, actor=actor, action="handoff.transfer", entity_type="handoff", entity_id=handoff_id,
        changes={"assignee_id": {"from": previous, "to": target.id}},
    )  # fmt: skip
    return handoff


async def _close(session: AsyncSession, *, handoff_id: int, actor: Principal, outcome: str) -> Handoff:
    handoff = await assigned_to_caller(session, handoff_id, actor)
    handoff = await _update_assigned(
        session,
        handoff,
        status=HandoffStatus.RESOLVED,
        resolved_at=utcnow(),
        summary={**handoff.summary, "outcome": outcome},
    )
    await conversations.set_status(session, handoff.conversation_id, ConversationStatus.ACTIVE)
    return handoff


async def release(session: AsyncSession, *, handoff_id: int, actor: Principal) -> Handoff:
    """Give the conversation back to the bot."""
    handoff = await _close(session, handoff_id=handoff_id, actor=actor, outcome="handed_back")
    await record(
        session, actor=actor, action="handoff.release", entity_type="handoff", entity_id=handoff_id,
        changes={"status": {"from": "assigned", "to": "resolved"}, "outcome": "handed_back"},
    )  # fmt: skip
    return handoff


async def resolve(session: AsyncSession, *, handoff_id: int, actor: Principal) -> Handoff:
    """Close the handoff as resolved, and solve its linked ticket."""
    handoff = await _close(session, handoff_id=handoff_id, actor=actor, outcome="resolved")
    changes: dict[str, Any] = {"status": {"from": "assigned", "to": "resolved"}, "outcome": "resolved"}
    ticket = await repository.get_ticket(session, handoff.ticket_id) if handoff.ticket_id else None
    if ticket is not None and ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        ticket.status = TicketStatus.SOLVED
        ticket.solved_at = handoff.resolved_at
        changes["ticket_solved"] = ticket.number
        await session.flush()
    await record(
        session, actor=actor, action="handoff.resolve", entity_type="handoff", entity_id=handoff_id,
        changes=changes,
    )  # fmt: skip
    return handoff


async def abandon(session: AsyncSession, *, handoff_id: int, actor: Principal) -> Handoff:
    """The customer left before the handoff was closed."""
    handoff = await get_handoff(session, handoff_id)
    if handoff.status not in OPEN_STATUSES:
        raise HandoffNotOpen(f"Handoff {handoff_id} is already {handoff.status.value}.")
    won = await repository.update_if_status(
        session, handoff_id, OPEN_STATUSES, status=HandoffStatus.ABANDONED
    )
    if not won:
        raise HandoffChanged(f"Handoff {handoff_id} was closed meanwhile.")
    await conversations.set_status(session, handoff.conversation_id, ConversationStatus.ACTIVE)
    await record(
        session, actor=actor, action="handoff.abandon", entity_type="handoff", entity_id=handoff_id,
        changes={"status": {"from": handoff.status.value, "to": "abandoned"}},
    )  # fmt: skip
    return await get_handoff(session, handoff_id)


async def give_csat(session: AsyncSession, *, handoff_id: int, data: CsatCreate, actor: Principal) -> Handoff:
    """Record the customer's satisfaction score, once, for a resolved handoff."""
    handoff = await get_handoff(session, handoff_id)
    if handoff.status is not HandoffStatus.RESOLVED:
        raise HandoffNotResolved(f"Handoff {handoff_id} is {handoff.status.value}; rate it once resolved.")
    won = await repository.rate_if_unrated(
        session, handoff_id, score=data.score, comment=data.comment, at=utcnow()
    )
    if not won:
        raise CsatAlreadyGiven(f"Handoff {handoff_id} was already rated.")
    await record(
        session, actor=actor, action="handoff.csat", entity_type="handoff", entity_id=handoff_id,
        changes={"csat_score": data.score},
    )  # fmt: skip
    return await get_handoff(session, handoff_id)


async def complete_csat(
    session: AsyncSession, *, handoff_id: int, data: CsatUpdate, actor: Principal
) -> Handoff:
    """Add the comment (and a changed score) to a rating stored without one; once."""
    handoff = await get_handoff(session, handoff_id)
    if handoff.status is not HandoffStatus.RESOLVED:
        raise HandoffNotResolved(f"Handoff {handoff_id} is {handoff.status.value}; rate it once resolved.")
    if handoff.csat_score is None:
        raise CsatNotGiven(f"Handoff {handoff_id} has no score yet; give one first.")
    won = await repository.complete_rating(
        session, handoff_id, score=data.score, comment=data.comment, at=utcnow()
    )
    if not won:
        raise CsatAlreadyGiven(f"Handoff {handoff_id} already has its comment.")
    changes: dict[str, Any] = {"csat_comment": "given" if data.comment else "none"}
    if data.score is not None and data.score != handoff.csat_score:
        changes["csat_score"] = {"from": handoff.csat_score, "to": data.score}
    await record(
        session, actor=actor, action="handoff.csat_update", entity_type="handoff", entity_id=handoff_id,
        changes=changes,
    )  # fmt: skip
    return await get_handoff(session, handoff_id)


async def note_agent_reply(session: AsyncSession, *, conversation_id: int, at: datetime) -> None:
    """An agent answered the customer: the first such answer stamps the handoff's first_response_at."""
    await repository.note_first_response(session, conversation_id, at)
