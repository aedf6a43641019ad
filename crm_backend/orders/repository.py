"""All SQL about orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm_backend.orders.models import Order, OrderStatus

# An order is almost always shown with its lines, parcels, history, returns and refunds.
FULL_ORDER = (
    selectinload(Order.items),
    selectinload(Order.shipments),
    selectinload(Order.status_history),
    selectinload(Order.returns),
    selectinload(Order.refunds),
)


async def get_by_number(session: AsyncSession, number: str) -> Order | None:
    """The order with this canonical number, with everything shown alongside it loaded."""
    result = await session.execute(select(Order).where(Order.number == number).options(*FULL_ORDER))
    return result.scalar_one_or_none()


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
