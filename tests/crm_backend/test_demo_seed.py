"""The demo seed is deterministic and has the orders the README promises."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crm_backend.agents.models import Agent
from crm_backend.conversations.models import Conversation
from crm_backend.customers.models import Customer
from crm_backend.demo.seed import DEMO_ORDERS, seed_demo_data
from crm_backend.demo.support_seed import DEMO_LOGINS
from crm_backend.orders.models import Order, OrderStatus
from crm_backend.tickets.models import Ticket, TicketStatus
from tests.crm_backend.money_back import check_money_back

ANCHOR = date(2026, 1, 15)


async def _snapshot(session):
    rows = await session.execute(
        select(Order).options(selectinload(Order.items), selectinload(Order.shipments)).order_by(Order.number)
    )
    return [
        (
            o.number,
            o.email,
            o.status,
            o.total_cents,
            o.placed_at,
            [(i.sku, i.quantity) for i in o.items],
            [s.tracking_number for s in o.shipments],
        )
        for o in rows.scalars()
    ]


async def test_seed_is_deterministic_for_an_anchor_date(session_factory):
    snapshots = []
    for _ in range(2):
        async with session_factory() as session:
            nested = await session.begin_nested()
            assert await seed_demo_data(session, anchor=ANCHOR, customers=40, orders=120)
            snapshots.append(await _snapshot(session))
            await nested.rollback()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == 120


async def test_seed_covers_every_status_and_the_readme_orders(session):
    assert await seed_demo_data(session, anchor=ANCHOR)

    customers = await session.scalar(select(func.count()).select_from(Customer))
    statuses = set((await session.scalars(select(Order.status).distinct())).all())
    assert customers == 300
    assert statuses == set(OrderStatus)
    agents = {a.email: a.role.value for a in (await session.scalars(select(Agent))).all()}
    assert agents == {login.email: login.role.value for login in DEMO_LOGINS}
    channels = set((await session.scalars(select(Conversation.channel).distinct())).all())
    assert len(channels) >= 3
    ticket_statuses = set((await session.scalars(select(Ticket.status).distinct())).all())
    assert ticket_statuses == set(TicketStatus)
    for demo in DEMO_ORDERS:
        order = await session.scalar(select(Order).where(Order.number == demo.number))
        assert order is not None
        assert (order.email, order.status) == (demo.email, demo.status)


async def test_seed_gives_cancelled_and_returned_orders_their_refunds_and_returns(session):
    assert await seed_demo_data(session, anchor=ANCHOR)

    orders = (
        await session.scalars(
            select(Order).options(
                selectinload(Order.status_history), selectinload(Order.returns), selectinload(Order.refunds)
            )
        )
    ).all()
    until = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=UTC)
    cases = Counter(check_money_back(order, until=until) for order in orders)
    assert cases["returned"] > 10
    assert cases["cancelled after payment"] > 10


async def test_seed_leaves_a_populated_database_alone(session):
    assert await seed_demo_data(session, anchor=ANCHOR, customers=5, orders=10)
    assert not await seed_demo_data(session, anchor=ANCHOR, customers=5, orders=10)


async def test_demo_logins_work(anonymous_client, session):
    assert await seed_demo_data(session, anchor=ANCHOR, customers=5, orders=10)
    for login in DEMO_LOGINS:
        response = await anonymous_client.post(
            "/api/auth/login", json={"email": login.email, "password": login.password}
        )
        assert response.status_code == 200
        assert response.json()["agent"]["role"] == login.role.value
