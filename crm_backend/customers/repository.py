"""All SQL about customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import Conversation
from crm_backend.core.enums import Channel
from crm_backend.customers.models import Customer, CustomerEmail, CustomerIdentity, CustomerTag
from crm_backend.handoffs.models import Handoff
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.orders.models import Order
from crm_backend.orders.numbers import normalize_order_number
from crm_backend.orders.repository import FULL_ORDER
from crm_backend.tickets.models import Ticket

_FULL_CUSTOMER = (
    selectinload(Customer.emails),
    selectinload(Customer.addresses),
    selectinload(Customer.identities),
    selectinload(Customer.tags),
)
# Fewer digits than this would match half the phone book.
MIN_PHONE_DIGITS = 5


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number, for matching however it was typed."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits or None


async def get(session: AsyncSession, customer_id: int, *, refresh: bool = False) -> Customer | None:
    """The customer with everything shown alongside it loaded (re-read from the database if `refresh`)."""
    statement = select(Customer).where(Customer.id == customer_id).options(*_FULL_CUSTOMER)
    if refresh:
        statement = statement.execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_row(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer's own columns only: for work that needs none of their lists."""
    return await session.get(Customer, customer_id)


async def touch_identity(session: AsyncSession, channel: Channel, external_id: str, *, at: datetime) -> None:
    """Record that the customer was seen again on this channel identity."""
    await session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.channel == channel, CustomerIdentity.external_id == external_id)
        .values(last_seen_at=at)
        .execution_options(synchronize_session=False)
    )


async def get_by_email(session: AsyncSession, email: str) -> Customer | None:
    """The customer owning this address (any of their emails)."""
    statement = (
        select(Customer)
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(CustomerEmail.email == email.lower())
        .options(*_FULL_CUSTOMER)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def email_owner_id(session: AsyncSession, email: str) -> int | None:
    """Which customer holds this address, if any."""
    return await session.scalar(select(CustomerEmail.customer_id).where(CustomerEmail.email == email.lower()))


async def identity_owner_id(session: AsyncSession, channel: Channel, external_id: str) -> int | None:
    """Which customer holds this channel identity, if any."""
    return await session.scalar(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.channel == channel, CustomerIdentity.external_id == external_id
        )
    )


def search(*, q: str | None, tag: str | None, include_merged: bool) -> Select[Any]:
    """Customers matching `q` by email, phone, name or order number; newest first."""
    statement = select(Customer).order_by(Customer.id.desc())
    if not include_merged:
        statement = statement.where(Customer.merged_into_id.is_(None))
    if tag:
        statement = statement.where(
            Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag == tag.strip().lower()))
        )
    if q and q.strip():
        text = q.strip()
        conditions: list[Any] = [func.lower(Customer.full_name).contains(text.lower(), autoescape=True)]
        if "@" in text:
            emails = select(CustomerEmail.customer_id).where(
                CustomerEmail.email.startswith(text.lower(), autoescape=True)
            )
            conditions.append(Customer.id.in_(emails))
        digits = phone_digits(text)
        if digits and len(digits) >= MIN_PHONE_DIGITS:
            conditions.append(Customer.phone_digits.endswith(digits[-9:], autoescape=True))
        number = normalize_order_number(text)
        if number:
            conditions.append(Customer.id.in_(select(Order.customer_id).where(Order.number == number)))
        statement = statement.where(or_(*conditions))
    return statement


def duplicates_of(customer: Customer) -> Select[Any]:
    """Other live customers sharing this one's phone or (case-insensitively) name."""
    conditions: list[Any] = [func.lower(Customer.full_name) == customer.full_name.lower()]
    if customer.phone_digits and len(customer.phone_digits) >= MIN_PHONE_DIGITS:
        conditions.append(Customer.phone_digits.endswith(customer.phone_digits[-9:], autoescape=True))
    return (
        select(Customer)
        .where(Customer.id != customer.id, Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
        .where(or_(*conditions))
        .order_by(Customer.id)
        .limit(20)
    )


# --- what a customer's record spans, for privacy export and erasure -----------------


async def orders_of(session: AsyncSession, customer_id: int) -> list[Order]:
    """Every order of the customer, fully loaded."""
    statement = select(Order).where(Order.customer_id == customer_id).options(*FULL_ORDER).order_by(Order.id)
    return list((await session.scalars(statement)).all())


async def tickets_of(session: AsyncSession, customer_id: int) -> list[Ticket]:
    """Every ticket of the customer, with comments."""
    statement = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .options(selectinload(Ticket.comments))
        .order_by(Ticket.id)
    )
    return list((await session.scalars(statement)).all())


async def conversations_of(session: AsyncSession, customer_id: int) -> list[Conversation]:
    """Every conversation of the customer, with messages."""
    statement = (
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .options(selectinload(Conversation.messages))
        .order_by(Conversation.id)
    )
    return list((await session.scalars(statement)).all())


async def handoffs_of(session: AsyncSession, conversation_ids: list[int]) -> list[Handoff]:
    """The handoffs of these conversations."""
    if not conversation_ids:
        return []
    statement = select(Handoff).where(Handoff.conversation_id.in_(conversation_ids)).order_by(Handoff.id)
    return list((await session.scalars(statement)).all())


async def audit_entries_of(session: AsyncSession, customer_id: int) -> list[AuditEntry]:
    """Audit entries about the customer record itself."""
    statement = select(AuditEntry).where(
        AuditEntry.entity_type == "customer", AuditEntry.entity_id == str(customer_id)
    )
    return list((await session.scalars(statement.order_by(AuditEntry.id))).all())


async def delete_stored_responses_of(session: AsyncSession, customer_id: int) -> int:
    """Delete the idempotency records whose stored responses are about the customer."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.customer_id == customer_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
