"""Alembic environment: runs migrations on the async engine for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from crm_backend.core.config import get_settings, to_async_url
from crm_backend.core.database import create_engine
from crm_backend.core.types import UTCDateTime
from crm_backend.models import Base
from crm_backend.orders import documents

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    # Tests and tools pass the URL explicitly; everyone else gets CRM_DATABASE_URL.
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import application types that may change later: our
    # UTCDateTime is stored as a plain timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Tables the database maintains itself (triggers), outside the models: autogenerate and
# `alembic check` leave them to their hand-written migrations.
_DATABASE_MAINTAINED = {documents.TABLE}


def _include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    return not (type_ == "table" and name in _DATABASE_MAINTAINED)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    # SQLite batch mode rebuilds a table by copy-and-drop, which foreign keys pointing at
    # it would forbid: migrate with them off.
    engine = create_engine(to_async_url(_database_url()), sqlite_foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
