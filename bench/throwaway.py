"""Throw-away resources a benchmark's stack runs on: its CRM database and its Redis keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from devstack.services import ServiceFailed
from tests.databases import temporary_postgres_database


@contextmanager
def database_url(kind: str, folder: Path, *, prefix: str) -> Iterator[str]:
    """A CRM database for one run: PostgreSQL (as in production, dropped after) or a SQLite file."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'crm-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with temporary_postgres_database(prefix) as url:
            yield url


def check_redis(redis_url: str) -> None:
    """Fail with the fix in the message if the Redis the stores use does not answer."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServiceFailed(
            f"redis: {redis_url} does not answer ({exc}); start it with `redis-server --daemonize yes "
            '--bind 127.0.0.1 --port 6379 --save "" --appendonly no` or pass --redis-url'
        ) from None
    finally:
        client.close()


def delete_keys(redis_url: str, prefix: str) -> None:
    """Remove the run's keys (tracker, locks, event stream) from the shared Redis."""
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()
