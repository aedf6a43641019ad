"""Rasa's Redis lock store, retrying a busy conversation's lock every 20 ms instead of every second.

Configured in endpoints.yml (`lock_store: type: lock_store.PromptRedisLockStore`). Rasa
takes one lock per conversation around every message and every event posted to its API (an
agent's reply during a handoff). When the lock is held, Rasa 3.6's `LockStore.lock` sleeps a
fixed `wait_time_in_seconds=1` between attempts, and none of its callers passes another
value. So a message that arrives while the previous one of its conversation is still being
handled waits a whole second, however short the wait needed: `make bench-handoff` measured
agent replies at p50 147 ms but p95 937 ms, and the bare tracker-events API at p95 2.8 s, the
tail made of those one-second sleeps. Polling Redis every 20 ms instead costs two small
commands per waiting message per poll and bounds the extra wait to 20 ms. The tickets, their
order, lifetime and expiry are Rasa's own, unchanged: several Rasa processes still share
conversations through Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_RETRY_SECONDS = 0.02


class PromptRedisLockStore(RedisLockStore):
    """A RedisLockStore whose busy-lock retry interval is `retry_seconds` (endpoints.yml)."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        **redis_kwargs: Any,
    ) -> None:
        if endpoint_config is not None:
            # Rasa builds a custom lock store from its endpoint config alone.
            redis_kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
            retry_seconds = float(redis_kwargs.pop("retry_seconds", None) or retry_seconds)
        if retry_seconds <= 0:
            raise ValueError(f"lock store: retry_seconds must be positive, got {retry_seconds}")
        self.retry_seconds = retry_seconds
        super().__init__(**redis_kwargs)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, retried every `retry_seconds` unless the caller names a wait."""
        wait = self.retry_seconds if wait_time_in_seconds is None else wait_time_in_seconds
        async with super().lock(conversation_id, lock_lifetime, wait) as held:
            yield held
