"""Alembic migrations go from empty to head and back on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from tests.crm_backend.conftest import alembic_config
from tests.databases import temporary_database


def _sync_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_to_head_then_downgrade_to_empty(kind, tmp_path):
    with temporary_database(kind, tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        engine = create_engine(_sync_url(url))
        try:
            tables = set(inspect(engine).get_table_names())
            assert {"customers", "orders", "order_items", "shipments", "order_status_changes"} <= tables

            command.downgrade(config, "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

            command.upgrade(config, "head")
            assert "orders" in inspect(engine).get_table_names()
        finally:
            engine.dispose()


def test_models_and_migrations_agree(database_url):
    """`alembic check`: no model change is missing a migration."""
    command.check(alembic_config(database_url))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_existing_customers_get_their_email_and_phone_digits_on_upgrade(kind, tmp_path):
    """The second migration backfills data that the first schema held differently."""
    with temporary_database(kind, tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "795b89214f94")
        engine = create_engine(_sync_url(url))
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO customers (id, full_name, email, phone, created_at, updated_at) "
                        "VALUES (1, 'Old Customer', 'old@example.com', '+49 (151) 234-567', :now, :now)"
                    ),
                    {"now": datetime.now(UTC)},
                )
            command.upgrade(config, "head")
            with engine.connect() as connection:
                emails = connection.execute(text("SELECT customer_id, email FROM customer_emails")).all()
                digits = connection.execute(text("SELECT phone_digits, language FROM customers")).one()
        finally:
            engine.dispose()
    assert [tuple(row) for row in emails] == [(1, "old@example.com")]
    assert tuple(digits) == ("49151234567", "en")
