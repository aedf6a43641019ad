"""Business rules for tickets: creation and links, SLA, status workflow, comments, customer lookup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository as agents
from crm_backend.agents.service import AgentNotFound
from crm_backend.audit.service import diff, record
from crm_backend.auth.principal import Principal
from crm_backend.conversations.service import ConversationNotFound
from crm_backend.core.enums import ActorKind
from crm_backend.core.errors import Conflict, DomainError, NotFound
from crm_backend.core.sequences import next_number
from crm_backend.core.types import utcnow
from crm_backend.customers.service import CustomerNotFound
from crm_backend.orders.models import Order
from crm_backend.orders.numbers import normalize_order_number
from crm_backend.orders.service import OrderNotFound
from crm_backend.tickets import repository
from crm_backend.tickets.models import Ticket, TicketComment, TicketPriority, TicketStatus
from crm_backend.tickets.schemas import (
    CommentCreate,
    TicketCreate,
    TicketRead,
    TicketStatusForCustomer,
    TicketSummary,
    TicketUpdate,
)

# How long the team has to resolve a ticket, counted from its creation.
SLA = {
    TicketPriority.URGENT: timedelta(hours=4),
    TicketPriority.HIGH: timedelta(hours=8),
    TicketPriority.NORMAL: timedelta(hours=24),
    TicketPriority.LOW: timedelta(hours=72),
}
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.OPEN: frozenset({TicketStatus.PENDING, TicketStatus.SOLVED, TicketStatus.CLOSED}),
    TicketStatus.PENDING: frozenset({TicketStatus.OPEN, TicketStatus.SOLVED, TicketStatus.CLOSED}),
    TicketStatus.SOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}
# The customer answered, so the ball is back in the team's court.
REOPENED_BY_CUSTOMER = frozenset({TicketStatus.PENDING, TicketStatus.SOLVED})
ViewT = TypeVar("ViewT", bound=BaseModel)
TICKET_NUMBER = re.compile(r"^TCK-\d{6,10}$")


class TicketNotFound(NotFound):
    error = "ticket_not_found"


class OrderNotOwned(Conflict):
    error = "order_not_owned"


class AgentInactive(Conflict):
    error = "agent_inactive"


class InvalidTicketTransition(Conflict):
    error = "invalid_ticket_transition"


class TicketClosed(Conflict):
    error = "ticket_closed"


class CustomerVoiceForbidden(DomainError):
    status_code = 403
    error = "from_customer_forbidden"


# One message for "no such ticket" and "not this customer's": telling them apart would
# let anyone probe which ticket numbers exist.
_NO_MATCH = "No ticket matches that number and customer."


def format_ticket_number(sequence: int) -> str:
    """The number for the n-th ticket (six digits, zero-padded)."""
    return f"TCK-{sequence:06d}"


def canonical_number(raw: str) -> str | None:
    """The number as stored ("tck-000042" → "TCK-000042"), or None when it cannot be a ticket's."""
    number = raw.strip().upper()
    return number if TICKET_NUMBER.match(number) else None


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Past its SLA and still waiting for the team."""
    return ticket.status not in repository.FINISHED and ticket.sla_due_at < now


async def get_ticket(session: AsyncSession, number: str) -> Ticket:
    """The ticket by number (any case), with comments, or 404."""
    canonical = canonical_number(number)
    ticket = await repository.get_by_number(session, canonical) if canonical else None
    if ticket is None:
        raise TicketNotFound(f"No ticket {number!r}.")
    return ticket


async def _order(session: AsyncSession, order_number: str) -> Order:
    canonical = normalize_order_number(order_number)
    order = await repository.get_order(session, canonical) if canonical else None
    if order is None:
        raise OrderNotFound(f"No order {order_number!r}.")
    return order


async def create_ticket(session: AsyncSession, *, data: TicketCreate, actor: Principal) -> Ticket:
    """Open a ticket with the next number and its SLA; every link given must exist."""
    customer_id = data.customer_id
    if customer_id is not None and await repository.get_customer(session, customer_id) is None:
        raise CustomerNotFound(f"No customer with id {customer_id}.")
    order_id = None
    if data.order_number is not None:
        order = await _order(session, data.order_number)
        if customer_id is not None and order.customer_id != customer_id:
            raise OrderNotOwned(f"Order {order.number} does not belong to customer {customer_id}.")
        # A ticket about an order is its buyer's, so they can follow it up through the bot.
        customer_id, order_id = order.customer_id, order.id
    conversation_id = None
    if data.conversation_sender_id is not None:
        conversation = await repository.get_conversation(session, data.conversation_sender_id)
        if conversation is None:
            raise ConversationNotFound(f"No conversation {data.conversation_sender_id!r}.")
        conversation_id = conversation.id
    now = utcnow()
    ticket = Ticket(
        number=format_ticket_number(await next_number(session, "ticket")),
        subject=data.subject,
        description=data.description,
        category=data.category.value,
        priority=data.priority,
        status=TicketStatus.NEW,
        channel=data.channel,
        customer_id=customer_id,
        order_id=order_id,
        conversation_id=conversation_id,
        sla_due_at=now + SLA[data.priority],
        created_at=now,
        updated_at=now,
        comments=[],
    )
    session.add(ticket)
    await session.flush()
    await record(
        session, actor=actor, action="ticket.create", entity_type="ticket", entity_id=ticket.number,
        changes={
            "priority": ticket.priority.value, "category": ticket.category, "channel": ticket.channel.value,
            "customer_id": customer_id, "order_id": order_id, "conversation_id": conversation_id,
        },
    )  # fmt: skip
    return ticket


def _move(ticket: Ticket, to: TicketStatus, now: datetime) -> None:
    """Apply one step of the workflow, keeping solved_at and closed_at true to it."""
    if to not in TRANSITIONS[ticket.status]:
        raise InvalidTicketTransition(f"A ticket cannot go from {ticket.status.value} to {to.value}.")
    if to is TicketStatus.SOLVED:
        ticket.solved_at = now
    elif to is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif ticket.status is TicketStatus.SOLVED:
        ticket.solved_at = None
    ticket.status = to


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category,
        "subject": ticket.subject,
        "assignee_id": ticket.assignee_id,
        "sla_due_at": moment(ticket.sla_due_at),
        "solved_at": moment(ticket.solved_at),
        "closed_at": moment(ticket.closed_at),
    }


async def update_ticket(
    session: AsyncSession, *, number: str, data: TicketUpdate, actor: Principal
) -> Ticket:
    """Change status (by the workflow), priority (and SLA), category, subject or assignee."""
    ticket = await get_ticket(session, number)
    if data.assignee_id is not None:
        agent = await agents.get(session, data.assignee_id)
        if agent is None:
            raise AgentNotFound(f"No agent with id {data.assignee_id}.")
        if not agent.is_active:
            raise AgentInactive(f"Agent {agent.id} is deactivated and cannot take tickets.")
    before = _snapshot(ticket)
    now = utcnow()
    if data.status is not None and data.status is not ticket.status:
        _move(ticket, data.status, now)
    if data.priority is not None:
        ticket.priority = data.priority
    if data.category is not None:
        ticket.category = data.category.value
    if data.subject is not None:
        ticket.subject = data.subject
    if "assignee_id" in data.model_fields_set:
        ticket.assignee_id = data.assignee_id
    if ticket.priority.value != before["priority"] and ticket.status not in repository.FINISHED:
        ticket.sla_due_at = ticket.created_at + SLA[ticket.priority]
    changes = diff(before, _snapshot(ticket))
    if changes:
        ticket.updated_at = now
        await session.flush()
        await record(
            session, actor=actor, action="ticket.update", entity_type="ticket", entity_id=ticket.number,
            changes=changes,
        )  # fmt: skip
    return ticket


async def add_comment(
    session: AsyncSession, *, number: str, data: CommentCreate, actor: Principal
) -> TicketComment:
    """Add a reply or note; a customer's reply puts a pending or solved ticket back in the queue."""
    # Only the bot relays customers' words; an agent speaking as the customer would forge history.
    if data.from_customer and not actor.is_service:
        raise CustomerVoiceForbidden("Only the service token may post a comment from the customer.")
    ticket = await get_ticket(session, number)
    if ticket.status is TicketStatus.CLOSED:
        raise TicketClosed(f"Ticket {ticket.number} is closed; open a new ticket instead.")
    if actor.is_agent:
        author = ActorKind.AGENT
    else:
        author = ActorKind.CUSTOMER if data.from_customer else ActorKind.SERVICE
    now = utcnow()
    comment = TicketComment(
        author_kind=author,
        author_agent_id=actor.agent_id if actor.is_agent else None,
        body=data.body,
        is_public=data.is_public,
        created_at=now,
    )
    ticket.comments.append(comment)
    status_before = ticket.status
    if author is ActorKind.CUSTOMER and ticket.status in REOPENED_BY_CUSTOMER:
        _move(ticket, TicketStatus.OPEN, now)
    ticket.updated_at = now
    await session.flush()
    # The body stays out of the audit log: it may hold personal data the log must not keep.
    changes: dict[str, Any] = {"comment_id": comment.id, "is_public": data.is_public, "author": author.value}
    changes |= diff({"status": status_before.value}, {"status": ticket.status.value})
    await record(
        session, actor=actor, action="ticket.comment", entity_type="ticket", entity_id=ticket.number,
        changes=changes,
    )  # fmt: skip
    return comment


async def lookup_for_customer(
    session: AsyncSession, *, number: str, email: str | None, customer_id: int | None
) -> Ticket:
    """The ticket only if it belongs to the customer named by the email or the customer id."""
    canonical = canonical_number(number)
    ticket = await repository.get_by_number(session, canonical) if canonical else None
    if ticket is None or ticket.customer_id is None:
        raise TicketNotFound(_NO_MATCH)
    if email is not None:
        owned = await repository.customer_has_email(session, ticket.customer_id, email.strip().lower())
    else:
        owned = ticket.customer_id == customer_id
    if not owned:
        raise TicketNotFound(_NO_MATCH)
    return ticket


def _links(ticket: Ticket, orders: dict[int, str], senders: dict[int, str], now: datetime) -> dict[str, Any]:
    """The fields of a ticket's views that are not columns of its row."""
    order, conversation = ticket.order_id, ticket.conversation_id
    return {
        "order_number": orders.get(order) if order is not None else None,
        "conversation_sender_id": senders.get(conversation) if conversation is not None else None,
        "overdue": is_overdue(ticket, now),
    }


def _view(model: type[ViewT], ticket: Ticket, **extra: Any) -> ViewT:
    columns = {name: getattr(ticket, name) for name in model.model_fields if name not in extra}
    return model.model_validate(columns | extra)


async def to_summaries(session: AsyncSession, tickets: Sequence[Ticket]) -> list[TicketSummary]:
    """The list view of tickets, with order numbers and sender ids resolved in two queries."""
    orders = await repository.order_numbers(session, (t.order_id for t in tickets))
    senders = await repository.conversation_sender_ids(session, (t.conversation_id for t in tickets))
    now = utcnow()
    return [_view(TicketSummary, t, **_links(t, orders, senders, now)) for t in tickets]


async def to_read(session: AsyncSession, ticket: Ticket) -> TicketRead:
    """The full view of a ticket, every comment (internal notes too) included."""
    orders = await repository.order_numbers(session, [ticket.order_id])
    senders = await repository.conversation_sender_ids(session, [ticket.conversation_id])
    return _view(TicketRead, ticket, **_links(ticket, orders, senders, utcnow()))


def to_status_for_customer(ticket: Ticket) -> TicketStatusForCustomer:
    """What the customer may see: public replies only, never internal notes."""
    return _view(TicketStatusForCustomer, ticket, comments=[c for c in ticket.comments if c.is_public])
