"""All SQL about orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

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
