"""All SQL about orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm_backend.orders.models import Order

# An order is almost always shown with its lines, parcels and history.
_FULL_ORDER = (
    selectinload(Order.items),
    selectinload(Order.shipments),
    selectinload(Order.status_history),
)


async def get_by_number(session: AsyncSession, number: str) -> Order | None:
    """The order with this canonical number, with items, shipments and history loaded."""
    result = await session.execute(select(Order).where(Order.number == number).options(*_FULL_ORDER))
    return result.scalar_one_or_none()
