"""All SQL about tickets, and the lookups of the records a ticket links to."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm_backend.conversations.models import Conversation
from crm_backend.core.filters import where_equal
from crm_backend.customers.models import Customer, CustomerEmail
from crm_backend.orders.models import Order
from crm_backend.tickets.models import Ticket, TicketPriority, TicketStatus

# Statuses whose SLA clock has stopped.
FINISHED = (TicketStatus.SOLVED, TicketStatus.CLOSED)


async def get_by_number(session: AsyncSession, number: str) -> Ticket | None:
    """The ticket with this canonical number, with its comments loaded."""
    result = await session.execute(
        select(Ticket).where(Ticket.number == number).options(selectinload(Ticket.comments))
    )
    return result.scalar_one_or_none()


async def customer_of(session: AsyncSession, number: str) -> int | None:
    """The customer ticket `number` (canonical) is about, if any."""
    customer_id: int | None = await session.scalar(select(Ticket.customer_id).where(Ticket.number == number))
    return customer_id


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Ticket.sla_due_at < now, Ticket.status.not_in(FINISHED))


def filtered(
    *,
    now: datetime,
    statuses: Collection[TicketStatus],
    priority: TicketPriority | None,
    category: str | None,
    assignee_id: int | None,
    customer_id: int | None,
    overdue: bool | None,
    q: str | None,
) -> Select[Any]:
    """Tickets newest first, narrowed by whichever filters are given."""
    statement = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if statuses:
        statement = statement.where(Ticket.status.in_(statuses))
    statement = where_equal(
        statement,
        (Ticket.priority, priority),
        (Ticket.category, category),
        (Ticket.assignee_id, assignee_id),
        (Ticket.customer_id, customer_id),
    )
    if overdue is not None:
        statement = statement.where(_overdue(now) if overdue else not_(_overdue(now)))
    if q:
        # autoescape: a "%" or "_" typed by the agent is a character, not a wildcard.
        statement = statement.where(Ticket.subject.icontains(q, autoescape=True))
    return statement


async def order_numbers(session: AsyncSession, order_ids: Iterable[int | None]) -> dict[int, str]:
    """Order id → order number, for the given ids."""
    ids = {i for i in order_ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Order.id, Order.number).where(Order.id.in_(ids)))
    return {row.id: row.number for row in rows}


async def conversation_sender_ids(
    session: AsyncSession, conversation_ids: Iterable[int | None]
) -> dict[int, str]:
    """Conversation id → Rasa sender id, for the given ids."""
    ids = {i for i in conversation_ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(
        select(Conversation.id, Conversation.sender_id).where(Conversation.id.in_(ids))
    )
    return {row.id: row.sender_id for row in rows}


async def get_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer with this id."""
    return await session.get(Customer, customer_id)


async def get_order(session: AsyncSession, number: str) -> Order | None:
    """The order with this canonical number."""
    return await session.scalar(select(Order).where(Order.number == number))


async def get_conversation(session: AsyncSession, sender_id: str) -> Conversation | None:
    """The conversation with this Rasa sender id."""
    return await session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))


async def customer_has_email(session: AsyncSession, customer_id: int, email: str) -> bool:
    """True if `email` (lower-cased) is the customer's primary address or one of their others."""
    known = or_(
        select(CustomerEmail.id)
        .where(CustomerEmail.customer_id == customer_id, func.lower(CustomerEmail.email) == email)
        .exists(),
        select(Customer.id).where(Customer.id == customer_id, func.lower(Customer.email) == email).exists(),
    )
    return bool(await session.scalar(select(known)))
