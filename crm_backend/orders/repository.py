"""All SQL about orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from crm_backend.orders import documents
from crm_backend.orders.models import Order, OrderStatus

# An order is almost always shown with its lines, parcels, history, returns and refunds.
SHOWN_WITH_ORDER = (Order.items, Order.shipments, Order.status_history, Order.returns, Order.refunds)
# For lists of orders: one extra query per collection, however many orders.
FULL_ORDER = tuple(selectinload(collection) for collection in SHOWN_WITH_ORDER)
# For one order, one round trip: its collections are a few rows each, so the joined
# product stays small, and the verify-and-get lookup (the bot's hottest call) goes from
# six queries to one. Built once, so its cache key is not recomputed per request.
_BY_NUMBER = (
    select(Order)
    .where(Order.number == bindparam("number"))
    .options(*(joinedload(collection) for collection in SHOWN_WITH_ORDER))
)


async def get_by_number(session: AsyncSession, number: str) -> Order | None:
    """The order with this canonical number, with everything shown alongside it loaded."""
    result = await session.execute(_BY_NUMBER, {"number": number})
    return result.unique().scalar_one_or_none()


async def customer_of(session: AsyncSession, number: str) -> int | None:
    """The customer who owns order `number` (canonical), if it exists."""
    customer_id: int | None = await session.scalar(select(Order.customer_id).where(Order.number == number))
    return customer_id


def filtered(
    *,
    status: OrderStatus | None,
    customer_id: int | None,
    email: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
) -> Select[Any]:
    """Newest orders first, narrowed by whichever filters are given."""
    statement = select(Order).order_by(Order.placed_at.desc(), Order.id.desc())
    if status is not None:
        statement = statement.where(Order.status == status)
    if customer_id is not None:
        statement = statement.where(Order.customer_id == customer_id)
    if email:
        statement = statement.where(Order.email == email.strip().lower())
    if placed_from is not None:
        statement = statement.where(Order.placed_at >= placed_from)
    if placed_to is not None:
        statement = statement.where(Order.placed_at < placed_to)
    return statement


# --- The lookup, on PostgreSQL: the order's document from the read model (documents.py) ---


class OrderDocument(NamedTuple):
    """An order rendered by the database: what the rules need, and the JSON bytes."""

    status: OrderStatus
    delivered_at: datetime | None
    document: bytes


class OwnershipKey(NamedTuple):
    """An order number with its proof of ownership: the checkout email or the customer id."""

    number: str
    email: str | None
    customer_id: int | None


async def owned_order_document(
    connection: Any, *, number: str, email: str | None, customer_id: int | None
) -> OrderDocument | None:
    """The order `number` as JSON, if its checkout email or customer id matches (asyncpg)."""
    row = await connection.fetchrow(documents.OWNED_ORDER_DOCUMENT, number, email, customer_id)
    if row is None:
        return None
    return OrderDocument(OrderStatus(row[0]), row[1], row[2])


async def owned_order_documents(connection: Any, keys: Sequence[OwnershipKey]) -> list[OrderDocument | None]:
    """owned_order_document for each key, in order, in one statement (asyncpg)."""
    if len(keys) == 1:
        number, email, customer_id = keys[0]
        return [await owned_order_document(connection, number=number, email=email, customer_id=customer_id)]
    numbers, emails, customer_ids = zip(*keys, strict=True)
    found: list[OrderDocument | None] = [None] * len(keys)
    for k, status, delivered_at, document in await connection.fetch(
        documents.OWNED_ORDER_DOCUMENTS, numbers, emails, customer_ids
    ):
        found[k - 1] = OrderDocument(OrderStatus(status), delivered_at, document)
    return found
