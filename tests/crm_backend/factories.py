"""Small factories that build valid rows with overridable fields."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent, AgentRole
from crm_backend.auth.passwords import hash_password
from crm_backend.customers.models import Customer, CustomerEmail
from crm_backend.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, Shipment

_sequence = itertools.count(900_001)
# Hashing with Argon2 is slow on purpose; tests share one hash.
TEST_PASSWORD = "correct horse battery staple"
_TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)


async def make_agent(session: AsyncSession, **overrides: Any) -> Agent:
    n = next(_sequence)
    fields: dict[str, Any] = {
        "name": f"Agent {n}",
        "email": f"agent{n}@example.com",
        "role": AgentRole.AGENT,
        "password_hash": _TEST_PASSWORD_HASH,
        "is_online": True,
    }
    fields.update(overrides)
    agent = Agent(**fields)
    session.add(agent)
    await session.flush()
    return agent


async def make_customer(session: AsyncSession, **overrides: Any) -> Customer:
    n = next(_sequence)
    fields: dict[str, Any] = {
        "full_name": f"Test Customer {n}",
        "email": f"customer{n}@example.com",
        "phone": None,
    }
    fields.update(overrides)
    customer = Customer(**fields)
    if customer.email:
        customer.emails.append(CustomerEmail(email=customer.email))
    session.add(customer)
    await session.flush()
    return customer


async def make_order(
    session: AsyncSession,
    *,
    customer: Customer | None = None,
    status: OrderStatus = OrderStatus.PAID,
    shipped: bool = False,
    delivered_days_ago: int | None = None,
    **overrides: Any,
) -> Order:
    """An order; `shipped` adds a parcel, `delivered_days_ago` a delivered one (and that status)."""
    customer = customer or await make_customer(session)
    placed = datetime.now(UTC) - timedelta(days=3)
    fields: dict[str, Any] = {
        "number": f"ORD-{next(_sequence)}",
        "customer": customer,
        "email": customer.email,
        "status": status,
        "currency": "EUR",
        "total_cents": 5980,
        "shipping_address": {
            "name": customer.full_name,
            "line1": "1 Test Street",
            "line2": None,
            "city": "Lyon",
            "postal_code": "69002",
            "country": "FR",
        },
        "placed_at": placed,
        "items": [
            OrderItem(sku="TSH-CLASSIC", name="Classic organic T-shirt", quantity=2, unit_price_cents=2990)
        ],
        "status_history": [OrderStatusChange(status=OrderStatus.PLACED, changed_at=placed)],
    }
    fields.update(overrides)
    order = Order(**fields)
    if delivered_days_ago is not None:
        delivered = datetime.now(UTC) - timedelta(days=delivered_days_ago)
        order.status = OrderStatus.DELIVERED
        order.placed_at = delivered - timedelta(days=3)
        order.status_history.append(OrderStatusChange(status=OrderStatus.DELIVERED, changed_at=delivered))
        order.shipments.append(
            Shipment(
                carrier="UPS", tracking_number="UP0000000002", tracking_url=None,
                estimated_delivery=delivered.date(), shipped_at=delivered - timedelta(days=2), delivered_at=delivered,
            )
        )  # fmt: skip
    if shipped:
        order.shipments.append(
            Shipment(
                carrier="DHL",
                tracking_number="DH0000000001",
                tracking_url="https://carrier.test/DH0000000001",
                estimated_delivery=date.today() + timedelta(days=2),
                shipped_at=placed + timedelta(days=1),
            )
        )
    session.add(order)
    await session.flush()
    return order
