"""The lookup's JSON is OrderRead's rendering of the order, on SQLite and on PostgreSQL.

On PostgreSQL the database renders the document into its read model when the order is
written (crm_backend/orders/documents.py) and the lookup reads it; on
SQLite the ORM loads the order and OrderRead renders it. Both are compared here with
OrderRead's own rendering of the same order, field by field, in order and with the same
types and formats, for orders in every state.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from crm_backend.core.database import ReadOnlyDatabase
from crm_backend.orders import documents, repository, service
from crm_backend.orders.models import (
    Order,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Refund,
    RefundStatus,
    ReturnStatus,
    Shipment,
)
from crm_backend.orders.schemas import OwnershipProof
from tests.crm_backend.factories import make_customer, make_order

WHOLE_SECOND = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)


async def _placed(session: AsyncSession) -> Order:
    return await make_order(session, status=OrderStatus.PLACED)


async def _paid_whole_seconds_and_a_second_line(session: AsyncSession) -> Order:
    # Timestamps without microseconds render without a fraction ("...T09:30:00Z").
    order = await make_order(session, status=OrderStatus.PAID, placed_at=WHOLE_SECOND)
    order.status_history[0].changed_at = WHOLE_SECOND
    order.status_history.append(
        OrderStatusChange(status=OrderStatus.PAID, changed_at=WHOLE_SECOND, note="card")
    )
    return order


async def _shipped_with_tracking(session: AsyncSession) -> Order:
    return await make_order(session, status=OrderStatus.SHIPPED, shipped=True)


async def _delivered_in_the_return_window(session: AsyncSession) -> Order:
    return await make_order(session, delivered_days_ago=5)


async def _delivered_long_ago(session: AsyncSession) -> Order:
    return await make_order(session, delivered_days_ago=90)


async def _delivered_by_history_only(session: AsyncSession) -> Order:
    # Marked delivered without a parcel arrival: the window starts at the history step.
    order = await make_order(session, status=OrderStatus.DELIVERED, shipped=True)
    order.status_history.append(
        OrderStatusChange(status=OrderStatus.DELIVERED, changed_at=datetime.now(UTC) - timedelta(days=2))
    )
    return order


async def _returned_with_refunds(session: AsyncSession) -> Order:
    order = await make_order(session, delivered_days_ago=20)
    order.status = OrderStatus.RETURNED
    now = datetime.now(UTC)
    # Added by order_id: the order's returns and refunds were never loaded (no lazy loads).
    rma = OrderReturn(
        order_id=order.id,
        number=f"RMA-{order.id:06d}", status=ReturnStatus.REFUNDED, reason="too small",
        items=[{"sku": "TSH-CLASSIC", "quantity": 1}], requested_at=now - timedelta(days=10),
        received_at=now - timedelta(days=6), resolved_at=WHOLE_SECOND,
    )  # fmt: skip
    session.add(rma)
    session.add(
        OrderReturn(
            order_id=order.id,
            number=f"RMA-{order.id + 500000:06d}",
            status=ReturnStatus.REJECTED,
            reason=None,
            items=[],
        )
    )
    await session.flush()
    session.add(
        Refund(
            order_id=order.id, return_id=rma.id, amount_cents=2990, currency="EUR", status=RefundStatus.COMPLETED,
            reason="return", created_at=now - timedelta(days=5), completed_at=now - timedelta(days=4),
        )
    )  # fmt: skip
    session.add(
        Refund(order_id=order.id, amount_cents=1, currency="EUR", status=RefundStatus.FAILED, reason=None)
    )
    order.status_history.append(
        OrderStatusChange(status=OrderStatus.RETURNED, changed_at=now, note='Ünïcode "quoted" \\ note')
    )
    return order


async def _cancelled_with_a_pending_refund(session: AsyncSession) -> Order:
    order = await make_order(session, status=OrderStatus.CANCELLED)
    session.add(
        Refund(order_id=order.id, amount_cents=order.total_cents, currency="EUR", reason="order cancelled")
    )
    order.status_history.append(OrderStatusChange(status=OrderStatus.CANCELLED, changed_at=datetime.now(UTC)))
    return order


async def _accented_email_address_line2_and_many_parcels(session: AsyncSession) -> Order:
    customer = await make_customer(session, email="zoë.müller@example.com")
    order = await make_order(
        session,
        customer=customer,
        status=OrderStatus.SHIPPED,
        shipped=True,
        currency="CHF",
        shipping_address={
            "name": "Zoë Müller", "line1": "Bahnhofstrasse 1", "line2": "c/o \"Büro\" 3.OG",
            "city": "Zürich", "postal_code": "8001", "country": "CH",
        },
    )  # fmt: skip
    order.shipments.append(
        Shipment(
            carrier="Post CH", tracking_number="99.00.123456.12345678", tracking_url=None,
            estimated_delivery=date(2026, 12, 24), shipped_at=WHOLE_SECOND, delivered_at=None,
        )
    )  # fmt: skip
    return order


async def _no_items_no_history(session: AsyncSession) -> Order:
    return await make_order(session, status=OrderStatus.PACKED, items=[], status_history=[])


ORDERS: list[Callable[[AsyncSession], Awaitable[Order]]] = [
    _placed,
    _paid_whole_seconds_and_a_second_line,
    _shipped_with_tracking,
    _delivered_in_the_return_window,
    _delivered_long_ago,
    _delivered_by_history_only,
    _returned_with_refunds,
    _cancelled_with_a_pending_refund,
    _accented_email_address_line2_and_many_parcels,
    _no_items_no_history,
]


def _canonical(document: bytes | str) -> str:
    # Parsed and dumped again: key order, types (1 vs 1.0, null vs absent) and values must
    # agree; only insignificant whitespace may differ.
    return json.dumps(json.loads(document), ensure_ascii=False)


async def _expected(session: AsyncSession, order: Order) -> str:
    """OrderRead's rendering of the order as stored, loaded afresh through the ORM."""
    await session.flush()
    session.expunge_all()
    stored = await service.get_order(session, order.number)
    return _canonical(service.to_read(stored).model_dump_json())


@pytest.mark.parametrize("build", ORDERS, ids=lambda build: build.__name__.strip("_"))
async def test_the_lookup_returns_orderreads_rendering(
    client: httpx.AsyncClient, session: AsyncSession, build: Callable[[AsyncSession], Awaitable[Order]]
):
    order = await build(session)
    number, email, customer_id = order.number, order.email, order.customer_id
    expected = await _expected(session, order)

    by_email = await client.post("/api/orders/lookup", json={"order_number": number, "email": email})
    by_customer = await client.post(
        "/api/orders/lookup", json={"order_number": number, "customer_id": customer_id}
    )

    assert by_email.status_code == by_customer.status_code == 200
    assert by_email.headers["content-type"] == "application/json"
    assert _canonical(by_email.content) == expected
    assert _canonical(by_customer.content) == expected


async def test_postgresql_renders_the_document_in_sql_and_sqlite_through_the_orm(
    connection: AsyncConnection, session_factory: async_sessionmaker[AsyncSession], session: AsyncSession
):
    order = await _returned_with_refunds(session)
    expected = await _expected(session, order)
    database = ReadOnlyDatabase(lambda: (connection, session_factory))

    async with database.driver() as driver:
        if connection.dialect.name == "postgresql":
            found = await repository.owned_order_document(
                driver, number=order.number, email=order.email, customer_id=None
            )
            assert found is not None
            assert found.status is OrderStatus.RETURNED
            document: dict[str, Any] = json.loads(found.document)
            assert list(document) == [f for f in json.loads(expected) if f not in documents.RULED_FIELDS]
        else:
            assert driver is None
    served = await service.lookup_order_json(database, order_number=order.number, proof=_proof(order.email))
    assert _canonical(served) == expected


async def test_a_wrong_proof_finds_nothing_even_in_sql(
    connection: AsyncConnection, session_factory: async_sessionmaker[AsyncSession], session: AsyncSession
):
    order = await _shipped_with_tracking(session)
    other = await make_customer(session)
    await session.flush()
    database = ReadOnlyDatabase(lambda: (connection, session_factory))

    for proof in (_proof(other.email), _proof(None, customer_id=other.id)):
        with pytest.raises(service.OrderNotFound) as refused:
            await service.lookup_order_json(database, order_number=order.number, proof=proof)
        assert refused.value.detail == "No order matches that order number and email."


def _proof(email: str | None, customer_id: int | None = None) -> OwnershipProof:
    return OwnershipProof(email=email, customer_id=customer_id)
