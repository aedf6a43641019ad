"""The scale data generator: counts, determinism, and orders the service can verify."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, selectinload

from crm_backend.core.config import to_async_url
from crm_backend.core.database import create_engine as create_async_engine
from crm_backend.core.database import create_session_factory
from crm_backend.customers.models import Customer, CustomerEmail
from crm_backend.demo.generate import GenerateError, generate, sync_database_url
from crm_backend.orders import documents
from crm_backend.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Refund,
    RefundStatus,
    Shipment,
)
from crm_backend.orders.repository import FULL_ORDER
from crm_backend.orders.schemas import OwnershipProof
from crm_backend.orders.service import OrderNotFound, to_read, verify_order_owner
from tests.crm_backend.conftest import alembic_config
from tests.crm_backend.money_back import check_money_back
from tests.databases import temporary_database

ANCHOR = date(2026, 1, 15)
ANCHOR_MIDNIGHT = datetime(2026, 1, 15, tzinfo=UTC)
NewDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Make fresh migrated databases of one kind; all are dropped after the test."""
    with ExitStack() as stack:

        def make() -> str:
            url = stack.enter_context(temporary_database(request.param, tmp_path))
            command.upgrade(alembic_config(url), "heads")
            return url

        yield make


def _small(
    url: str, *, customers: int = 50, orders: int = 200, seed: int = 7, first_sequence: int | None = None
) -> None:
    numbering = {} if first_sequence is None else {"first_sequence": first_sequence}
    generate(
        url,
        customers=customers,
        orders=orders,
        seed=seed,
        anchor=ANCHOR,
        progress=lambda _: None,
        **numbering,
    )


@contextmanager
def _session(url: str) -> Iterator[Session]:
    engine = create_engine(sync_database_url(url))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _first_order(url: str) -> tuple[object, ...]:
    with _session(url) as session:
        order = session.scalars(
            select(Order)
            .order_by(Order.id)
            .limit(1)
            .options(selectinload(Order.items), selectinload(Order.status_history))
        ).one()
        return (
            order.number,
            order.email,
            order.status,
            order.total_cents,
            order.placed_at,
            [(i.sku, i.quantity) for i in order.items],
            [(c.status, c.changed_at) for c in order.status_history],
        )


def test_generate_writes_the_requested_customers_and_orders(new_database: NewDatabase):
    url = new_database()

    _small(url)

    with _session(url) as session:
        assert _count(session, Customer) == _count(session, CustomerEmail) == 50
        assert _count(session, Order) == 200
        assert 200 <= _count(session, OrderItem) <= 600
        orders = session.scalars(
            select(Order).options(
                selectinload(Order.items),
                selectinload(Order.status_history),
                selectinload(Order.shipments),
                selectinload(Order.customer),
            )
        ).all()
    assert orders[0].number == "ORD-1000000"
    for order in orders:
        steps = [c.status for c in order.status_history]
        assert 1 <= len(order.items) <= 3
        assert order.total_cents == sum(i.quantity * i.unit_price_cents for i in order.items)
        assert order.email == order.customer.email
        assert steps[0] is OrderStatus.PLACED
        assert steps[-1] is order.status
        assert len(order.shipments) == (OrderStatus.SHIPPED in steps)


def _document_writes(session: Session) -> tuple[int, int]:
    """(inserts, updates) of order_documents, once the generator's statistics have arrived."""
    # Its connection reports them as it closes, a moment after generate() returns.
    deadline = time.monotonic() + 10
    while True:
        session.rollback()  # statistics are read once per transaction
        row = session.execute(
            text("SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables WHERE relname = 'order_documents'")
        ).one()
        if row[0] > 0 or time.monotonic() > deadline:
            return (row[0], row[1])
        time.sleep(0.05)


def test_on_postgresql_every_generated_order_gets_its_document_rendered_once(tmp_path: Path):
    """The bulk load defers the read model's triggers and renders each order once at the end."""
    with temporary_database("postgresql", tmp_path) as url:
        command.upgrade(alembic_config(url), "heads")
        _small(url, orders=120)
        with _session(url) as session:
            stored: dict[int, bytes] = dict(
                session.execute(text("SELECT order_id, document FROM order_documents")).all()
            )
            written = _document_writes(session)
            orders = session.scalars(select(Order).options(*FULL_ORDER)).all()
            assert len(stored) == len(orders) == 120
            for order in orders:
                rendered = json.loads(to_read(order).model_dump_json())
                expected = {k: v for k, v in rendered.items() if k not in documents.RULED_FIELDS}
                assert json.loads(bytes(stored[order.id])) == expected
    # Each document written once, by the final render: no COPY re-rendered anything.
    assert written == (120, 0)


def test_cancelled_and_returned_orders_carry_their_refunds_and_returns(new_database: NewDatabase):
    url = new_database()

    _small(url, orders=400)

    with _session(url) as session:
        orders = session.scalars(
            select(Order).options(
                selectinload(Order.status_history), selectinload(Order.returns), selectinload(Order.refunds)
            )
        ).all()
        cases = Counter(check_money_back(order, until=ANCHOR_MIDNIGHT) for order in orders)
        assert _count(session, OrderReturn) == cases["returned"] > 0
        assert _count(session, Refund) == cases["returned"] + cases["cancelled after payment"]
    assert cases["cancelled after payment"] > 0
    # Some refunds were paid out, and some returned orders are still waiting for theirs.
    statuses = {refund.status for order in orders for refund in order.refunds}
    assert RefundStatus.COMPLETED in statuses
    assert statuses - {RefundStatus.COMPLETED}


def test_same_seed_gives_the_same_orders_and_another_seed_does_not(new_database: NewDatabase):
    first, again, other = new_database(), new_database(), new_database()

    _small(first)
    _small(again)
    _small(other, seed=8)

    assert _first_order(first) == _first_order(again)
    assert _first_order(first) != _first_order(other)


def test_generating_twice_into_one_database_is_refused(new_database: NewDatabase):
    url = new_database()
    _small(url, orders=5)

    with pytest.raises(GenerateError, match="already holds ORD-1000000"):
        _small(url, orders=5)


def test_ids_continue_after_existing_rows_and_the_app_can_insert_after(new_database: NewDatabase):
    url = new_database()
    with _session(url) as session, session.begin():
        session.add(Customer(full_name="Already Here", email="here@example.com"))

    _small(url, customers=3, orders=4)

    with _session(url) as session, session.begin():
        # PostgreSQL's id sequences must have moved past the copied ids.
        late = Customer(full_name="Came Later", email="later@example.com")
        session.add(late)
        session.flush()
        late_id = late.id
        ids = session.scalars(select(Customer.id).order_by(Customer.id)).all()
    assert ids == [1, 2, 3, 4, 5]
    assert late_id == 5


@pytest.fixture
def six_digit_orders(new_database: NewDatabase) -> str:
    """A generated database numbered from ORD-200000 (normalize_order_number reads six digits)."""
    url = new_database()
    _small(url, first_sequence=200_000)
    return url


async def test_a_generated_order_verifies_by_number_and_email(six_digit_orders: str):
    url = six_digit_orders
    engine = create_async_engine(to_async_url(url))
    try:
        async with create_session_factory(engine)() as session:
            number, email = (await session.execute(text("SELECT number, email FROM orders LIMIT 1"))).one()

            order = await verify_order_owner(
                session, order_number=number, proof=OwnershipProof(email=email.upper())
            )

            assert order.number == number == "ORD-200000"
            assert order.items
            assert order.status_history
            with pytest.raises(OrderNotFound):
                await verify_order_owner(
                    session, order_number=number, proof=OwnershipProof(email="someone.else@example.com")
                )
    finally:
        await engine.dispose()


def test_every_step_is_recorded_in_order(new_database: NewDatabase):
    url = new_database()
    _small(url, orders=50)

    with _session(url) as session:
        changes = session.execute(
            select(OrderStatusChange.order_id, OrderStatusChange.changed_at).order_by(OrderStatusChange.id)
        ).all()
        shipped = session.scalar(select(func.count()).select_from(Shipment))
    by_order: dict[int, list[object]] = {}
    for order_id, changed_at in changes:
        by_order.setdefault(order_id, []).append(changed_at)
    assert len(by_order) == 50
    assert all(times == sorted(times) for times in by_order.values())  # type: ignore[type-var]
    assert shipped
