"""Throw-away databases for tests: a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

# Trust auth on this machine's PostgreSQL (GUIDE §2); override for other setups.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def temporary_postgres_database(prefix: str = "crm_test") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, and drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def temporary_database(kind: str, folder: Path) -> Iterator[str]:
    """A database URL of `kind` ("sqlite" or "postgresql") that disappears afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'crm-{uuid.uuid4().hex[:8]}.db'}"
    elif kind == "postgresql":
        with temporary_postgres_database() as url:
            yield url
    else:
        raise ValueError(kind)
