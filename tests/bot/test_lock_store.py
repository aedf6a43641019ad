"""bot/lock_store.py against a real Redis: built as endpoints.yml configures it, short retries, order kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rasa.core import lock_store as rasa_lock_store
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import DEFAULT_RETRY_SECONDS, PromptRedisLockStore

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"


@pytest.fixture
def key_prefix() -> Iterator[str]:
    prefix = f"testlock{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _endpoint(key_prefix: str, **extra: str) -> EndpointConfig:
    # As endpoints.yml gives it after environment substitution: every value a string.
    return EndpointConfig(
        url="127.0.0.1",
        type="lock_store.PromptRedisLockStore",
        port="6379",
        db="0",
        password="",
        key_prefix=key_prefix,
        **extra,
    )


def test_rasa_builds_it_from_the_endpoint_config(key_prefix, monkeypatch):
    # Rasa runs in bot/ and imports the class by its module path there.
    monkeypatch.syspath_prepend(str(BOT_DIR))
    store = LockStore.create(_endpoint(key_prefix))
    tuned = LockStore.create(_endpoint(key_prefix, retry_seconds="0.05"))

    assert (type(store).__module__, type(store).__name__) == ("lock_store", "PromptRedisLockStore")
    assert store.retry_seconds == DEFAULT_RETRY_SECONDS
    assert store.key_prefix == f"{key_prefix}:lock:"
    assert tuned.retry_seconds == 0.05


def test_a_non_positive_retry_interval_is_refused(key_prefix):
    with pytest.raises(ValueError, match="retry_seconds"):
        PromptRedisLockStore(_endpoint(key_prefix, retry_seconds="-1"))


async def test_a_busy_conversation_is_retried_at_the_short_interval_and_served_in_order(
    key_prefix, monkeypatch
):
    store = PromptRedisLockStore(_endpoint(key_prefix))
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(rasa_lock_store.asyncio, "sleep", recorded_sleep)
    order: list[str] = []
    first_holds = asyncio.Event()

    async def first() -> None:
        async with store.lock("s1"):
            first_holds.set()
            order.append("first in")
            while not waits:  # until the second one has had to wait at least once
                await real_sleep(0.001)
            order.append("first out")

    async def second() -> None:
        await first_holds.wait()
        async with store.lock("s1"):
            order.append("second in")

    await asyncio.gather(first(), second())

    assert order == ["first in", "first out", "second in"]
    assert waits
    assert set(waits) == {DEFAULT_RETRY_SECONDS}
