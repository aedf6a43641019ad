"""Business rules for orders."""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.core.errors import NotFound
from crm_backend.orders import repository
from crm_backend.orders.models import Order
from crm_backend.orders.numbers import normalize_order_number


class OrderNotFound(NotFound):
    error = "order_not_found"


# One message for "no such order" and "wrong email": telling them apart would let
# anyone probe which order numbers exist.
_NO_MATCH = "No order matches that order number and email."


async def verify_order_owner(session: AsyncSession, *, order_number: str, email: str) -> Order:
    """Return the order only if `email` is the one given at checkout."""
    number = normalize_order_number(order_number)
    if number is None:
        raise OrderNotFound(_NO_MATCH)
    order = await repository.get_by_number(session, number)
    if order is None or not hmac.compare_digest(order.email, email.strip().lower()):
        raise OrderNotFound(_NO_MATCH)
    return order
