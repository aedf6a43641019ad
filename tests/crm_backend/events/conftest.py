"""Event pipeline fixtures: a real Redis with a unique key prefix per test, cleaned up after it."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.events.consumer import EventConsumer
from crm_backend.events.live import LivePublisher

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class StreamKeys:
    prefix: str

    @property
    def stream(self) -> str:
        return f"{self.prefix}:events"

    @property
    def live(self) -> str:
        return f"{self.prefix}:live"


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis_client: Redis) -> AsyncIterator[StreamKeys]:
    keys = StreamKeys(f"test-events-{uuid.uuid4().hex[:10]}")
    yield keys
    async for key in redis_client.scan_iter(match=f"{keys.prefix}:*"):
        await redis_client.delete(key)


async def add_event(redis: Redis, stream: str, event: dict[str, Any], *, event_id: str | None = None) -> str:
    """Append an event the way bot/event_broker.py does; the entry id."""
    fields = {"event_id": event_id or uuid.uuid4().hex, "event": json.dumps(event)}
    entry_id = await redis.xadd(stream, fields)  # type: ignore[arg-type]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def user_event(sender_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """A Rasa `user` event as the tracker store streams it."""
    return {
        "sender_id": sender_id,
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {"text": text, "intent": {"name": "order_status", "confidence": 0.87}, "entities": []},
        "input_channel": "socketio",
        "message_id": uuid.uuid4().hex,
        "metadata": {},
        **extra,
    }


def bot_event(sender_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """A Rasa `bot` event."""
    return {
        "sender_id": sender_id,
        "event": "bot",
        "timestamp": time.time(),
        "text": text,
        "data": {},
        **extra,
    }


ConsumerFactory = Callable[..., EventConsumer]


@pytest.fixture
def make_consumer(
    redis_client: Redis, keys: StreamKeys, session_factory: async_sessionmaker[AsyncSession]
) -> ConsumerFactory:
    """A consumer of the test's stream, recording into the test's (rolled-back) transaction."""

    def build(cls: type[EventConsumer] = EventConsumer, **overrides: Any) -> EventConsumer:
        options: dict[str, Any] = {
            "redis": redis_client,
            "session_factory": session_factory,
            "stream": keys.stream,
            "group": "crm",
            "name": "crm-1",
            "publisher": LivePublisher(redis_client, keys.live),
            "block_ms": 50,
            **overrides,
        }
        return cls(**options)

    return build
