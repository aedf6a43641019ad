"""Alembic migrations go from empty to head and back on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

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
