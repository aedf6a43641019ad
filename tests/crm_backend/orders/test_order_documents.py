"""The order documents read model (PostgreSQL): every write re-renders, in the same transaction.

`crm_backend/orders/documents.py` keeps each order's rendered JSON in `order_documents`,
maintained by triggers; the lookup reads only that table. These tests write through the
ORM, through raw SQL and from two transactions at once, and compare the stored document
with OrderRead's own rendering of the order as stored. SQLite has no read model (its
lookup renders through the ORM, tested in test_lookup_document.py), so this module runs on
PostgreSQL only, on a database of its own.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.auth.principal import SERVICE_PRINCIPAL
from crm_backend.core.config import to_async_url
from crm_backend.core.database import create_engine, create_session_factory
from crm_backend.customers.privacy import erase_customer
from crm_backend.demo.generate import generate
from crm_backend.orders import documents, service
from crm_backend.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Refund,
    ReturnStatus,
    Shipment,
)
from tests.crm_backend.conftest import alembic_config
from tests.crm_backend.factories import make_customer, make_order
from tests.crm_backend.test_cli import run_cli
from tests.databases import temporary_postgres_database

MIGRATIONS = Path(__file__).resolve().parents[3] / "crm_backend" / "migrations" / "versions"
READ_MODEL_REVISION, BEFORE_READ_MODEL = "a41c7d2e9b05", "3c1a9e5d7b42"
ADDRESS = {
    "name": "Bulk Load",
    "line1": "Copy Street 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with temporary_postgres_database("crm_documents") as url:
        command.upgrade(alembic_config(url), "heads")
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(to_async_url(database_url))
    yield create_session_factory(engine)
    await engine.dispose()


def _stored_document(url: str, order_id: int) -> dict[str, Any] | None:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT number, email, customer_id, status, document FROM order_documents WHERE order_id = %s",
            (order_id,),
        ).fetchone()
    if row is None:
        return None
    number, email, customer_id, status, document = row
    rendered: dict[str, Any] = json.loads(bytes(document))
    # The columns the lookup checks the proof against agree with the document they guard.
    assert (number, email, customer_id, status) == (
        rendered["number"],
        rendered["email"],
        rendered["customer_id"],
        rendered["status"],
    )
    return rendered


async def _as_stored(sessions: async_sessionmaker[AsyncSession], number: str) -> dict[str, Any]:
    """OrderRead's rendering of the committed order, without the fields the rules add."""
    async with sessions() as session:
        order = await service.get_order(session, number)
        rendered: dict[str, Any] = json.loads(service.to_read(order).model_dump_json())
    return {name: value for name, value in rendered.items() if name not in documents.RULED_FIELDS}


def _load_migration() -> ModuleType:
    (path,) = MIGRATIONS.glob(f"*_{READ_MODEL_REVISION}_*.py")
    spec = importlib.util.spec_from_file_location("order_documents_migration", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_holds_what_the_code_generates():
    """If this fails, the schemas changed: write a migration that replaces the functions."""
    migration = _load_migration()
    assert documents.schema_statements() == migration.SCHEMA_STATEMENTS
    assert documents.drop_statements() == migration.DROP_STATEMENTS


async def test_every_kind_of_write_re_renders_the_document(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        order = await make_order(session, status=OrderStatus.PAID)
        order_id, number = order.id, order.number
    now = datetime.now(UTC)
    writes: list[Any] = [
        # The order itself (the privacy erasure and contact changes write these columns).
        update(Order).where(Order.id == order_id).values(email="changed@example.org"),
        update(Order)
        .where(Order.id == order_id)
        .values(
            shipping_address={"name": "X", "line1": "New 1", "city": "Y", "postal_code": "1", "country": "DE"}
        ),
        insert(OrderItem).values(
            order_id=order_id, sku="MUG-1", name="Mug", quantity=2, unit_price_cents=900
        ),
        update(OrderItem).where(OrderItem.order_id == order_id, OrderItem.sku == "MUG-1").values(quantity=3),
        insert(Shipment).values(
            order_id=order_id, carrier="DHL", tracking_number="JD0001", shipped_at=now - timedelta(days=2)
        ),
        update(Shipment).where(Shipment.order_id == order_id).values(delivered_at=now),
        update(Order).where(Order.id == order_id).values(status=OrderStatus.DELIVERED),
        insert(OrderStatusChange).values(
            order_id=order_id, status=OrderStatus.DELIVERED, changed_at=now, note=None
        ),
        insert(OrderReturn).values(
            order_id=order_id, number="RMA-DOC-1", status=ReturnStatus.REQUESTED, reason="late", items=[]
        ),
        insert(Refund).values(order_id=order_id, amount_cents=900, currency="EUR", reason="return"),
        delete(Refund).where(Refund.order_id == order_id),
        delete(OrderItem).where(OrderItem.order_id == order_id, OrderItem.sku == "MUG-1"),
    ]
    assert _stored_document(database_url, order_id) == await _as_stored(sessions, number)
    for write in writes:
        before = _stored_document(database_url, order_id)
        async with sessions() as session, session.begin():
            await session.execute(write)
        after = _stored_document(database_url, order_id)
        assert after != before, f"no change in the document after {write}"
        assert after == await _as_stored(sessions, number), f"stale after {write}"


async def test_a_deleted_order_leaves_no_document(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        order = await make_order(session, shipped=True)
        order_id = order.id
    assert _stored_document(database_url, order_id) is not None

    async with sessions() as session, session.begin():
        await session.execute(delete(Order).where(Order.id == order_id))

    assert _stored_document(database_url, order_id) is None


async def test_a_statement_touching_many_orders_renders_each(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        customer = await make_customer(session)
        orders = [await make_order(session, customer=customer) for _ in range(3)]
        ids, numbers = [o.id for o in orders], [o.number for o in orders]

    async with sessions() as session, session.begin():
        await session.execute(update(Order).where(Order.id.in_(ids)).values(status=OrderStatus.PACKED))

    for order_id, number in zip(ids, numbers, strict=True):
        stored = _stored_document(database_url, order_id)
        assert stored is not None
        assert stored["status"] == "packed"
        assert stored == await _as_stored(sessions, number)


async def test_two_transactions_writing_one_order_both_show(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    """The second writer waits for the first and renders after it committed: no lost update."""
    async with sessions() as session, session.begin():
        order = await make_order(session, items=[], status=OrderStatus.PAID)
        order_id, number = order.id, order.number
    item = "INSERT INTO order_items (order_id, sku, name, quantity, unit_price_cents) VALUES (%s, 'A', 'A', 1, 100)"
    parcel = "INSERT INTO shipments (order_id, carrier, tracking_number, shipped_at) VALUES (%s, 'UPS', '1Z-DOC', now())"

    first = psycopg.connect(database_url)
    first.execute(item, (order_id,))  # renders the order with the item, uncommitted, and holds it
    second_done = threading.Event()

    def second_writer() -> None:
        with psycopg.connect(database_url) as second:
            second.execute(parcel, (order_id,))  # its render waits for the first transaction
            second.commit()
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        assert not second_done.wait(0.5), "the second writer did not wait for the first"
        first.commit()
        assert second_done.wait(10)
    finally:
        first.close()
        thread.join(10)

    stored = _stored_document(database_url, order_id)
    assert stored is not None
    assert [i["sku"] for i in stored["items"]] == ["A"]
    assert [s["tracking_number"] for s in stored["shipments"]] == ["1Z-DOC"]
    assert stored == await _as_stored(sessions, number)


async def test_a_deferred_bulk_load_renders_once_at_the_end(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        customer = await make_customer(session)
        customer_id, email = customer.id, customer.email
    with psycopg.connect(database_url) as connection:
        connection.execute(f"SET LOCAL {documents.DEFER_SETTING} = 'on'")
        (order_id,) = connection.execute(
            "INSERT INTO orders (number, customer_id, email, status, currency, total_cents, shipping_address,"
            " placed_at, updated_at) VALUES ('ORD-777001', %s, %s, 'placed', 'EUR', 100, %s, now(), now())"
            " RETURNING id",
            (customer_id, email, json.dumps(ADDRESS)),
        ).fetchone() or (0,)
        deferred = connection.execute(
            "SELECT count(*) FROM order_documents WHERE order_id = %s", (order_id,)
        ).fetchone()
        connection.execute("SELECT order_documents_render(ARRAY[%s])", (order_id,))
    assert deferred == (0,)
    assert _stored_document(database_url, order_id) == await _as_stored(sessions, "ORD-777001")


def test_upgrading_renders_the_orders_already_there():
    with temporary_postgres_database("crm_documents") as url:
        config = alembic_config(url)
        command.upgrade(config, "heads")
        generate(url, customers=20, orders=60, progress=lambda _: None)
        with psycopg.connect(url) as connection:
            rendered = connection.execute(
                "SELECT order_id, document FROM order_documents ORDER BY 1"
            ).fetchall()

        command.downgrade(config, BEFORE_READ_MODEL)
        with psycopg.connect(url) as connection:
            left = connection.execute(
                "SELECT count(*) FROM pg_proc WHERE proname LIKE 'order_documents%%'"
                " UNION ALL SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'order_documents%%'"
                " UNION ALL SELECT count(*) FROM pg_class WHERE relname = 'order_documents'"
            ).fetchall()
        assert left == [(0,), (0,), (0,)]

        command.upgrade(config, "heads")
        with psycopg.connect(url) as connection:
            backfilled = connection.execute(
                "SELECT order_id, document FROM order_documents ORDER BY 1"
            ).fetchall()
            orders = connection.execute("SELECT count(*) FROM orders").fetchone()
    assert len(rendered) == 60 == (orders or (0,))[0]
    assert backfilled == rendered


async def test_erasing_a_customer_leaves_no_personal_data_in_the_documents(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        customer = await make_customer(session, full_name="Ada Lovelace", email="ada.lovelace@example.org")
        order = await make_order(
            session,
            customer=customer,
            shipping_address={
                "name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "Flat 3",
                "city": "London", "postal_code": "NW1 6XE", "country": "GB",
            },
        )  # fmt: skip
        customer_id, order_id, number = customer.id, order.id, order.number
    before = json.dumps(_stored_document(database_url, order_id))
    assert "ada.lovelace@example.org" in before
    assert "12 Analytical Row" in before

    async with sessions() as session, session.begin():
        await erase_customer(session, customer_id=customer_id, actor=SERVICE_PRINCIPAL)

    after = _stored_document(database_url, order_id)
    assert after is not None
    for personal in ("ada.lovelace", "Lovelace", "Analytical", "Flat 3", "London", "NW1"):
        assert personal not in json.dumps(after)
    assert after["email"] == f"erased-{order_id}@invalid.example"
    assert after == await _as_stored(sessions, number)


def test_the_cli_finds_drift_and_rebuild_repairs_it(repo_root: Path):
    """`python -m crm_backend order-documents`: exit 1 naming what drifted; --rebuild mends it."""
    with temporary_postgres_database("crm_documents") as url:
        command.upgrade(alembic_config(url), "heads")
        generate(url, customers=10, orders=30, progress=lambda _: None)
        current = run_cli(repo_root, "order-documents", CRM_DATABASE_URL=url)
        with psycopg.connect(url) as connection:
            # What a restore without triggers, or a bug in them, would leave behind.
            connection.execute("DELETE FROM order_documents WHERE order_id IN (SELECT min(id) FROM orders)")
            connection.execute(
                "UPDATE order_documents SET document = convert_to('{}', 'UTF8')"
                " WHERE order_id IN (SELECT max(id) FROM orders)"
            )
            connection.execute(
                "UPDATE order_documents SET status = 'tampered'"
                " WHERE order_id IN (SELECT id FROM orders ORDER BY id LIMIT 1 OFFSET 5)"
            )
        drifted = run_cli(repo_root, "order-documents", CRM_DATABASE_URL=url)
        rebuilt = run_cli(repo_root, "order-documents", "--rebuild", CRM_DATABASE_URL=url)
        after = run_cli(repo_root, "order-documents", CRM_DATABASE_URL=url)

    assert (current.returncode, current.stdout.strip()) == (0, "crm: order documents are current")
    assert drifted.returncode == 1
    assert drifted.stderr.strip() == (
        "crm: order documents drifted: 1 missing, 2 stale"
        " (repair: python -m crm_backend order-documents --rebuild)"
    )
    assert "Traceback" not in drifted.stderr
    assert (rebuilt.returncode, rebuilt.stdout.strip()) == (0, "crm: 30 order documents rendered")
    assert (after.returncode, after.stdout.strip()) == (0, "crm: order documents are current")


def test_the_cli_says_sqlite_has_no_read_model(repo_root: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    command.upgrade(alembic_config(url), "heads")
    result = run_cli(repo_root, "order-documents", CRM_DATABASE_URL=url)
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "crm: no order documents on this database (the lookup renders through the ORM)",
    )
