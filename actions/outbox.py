"""Tickets the CRM could not take when the customer wrote them: kept in Redis, delivered later.

A customer who writes while the CRM is down must not lose their message. The action
server keeps the ticket in a Redis list and a background task delivers the oldest first
once the CRM answers again. Each ticket carries its idempotency key, so a delivery that
is retried after a timeout still creates one ticket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from actions.crm_client import CrmClient, CrmUnavailable, Refused, Rejected

logger = logging.getLogger(__name__)

# How often the background task looks for kept tickets while the action server runs.
DELIVERY_INTERVAL_SECONDS = 10.0
# One deliverer at a time across action server processes.
LOCK_SECONDS = 30


class Outbox:
    """A Redis list of tickets waiting for the CRM, oldest at the right end."""

    def __init__(self, client: aioredis.Redis | None, key_prefix: str) -> None:
        self._redis = client
        self.key = f"{key_prefix}:outbox:tickets"
        self.failed_key = f"{key_prefix}:outbox:failed"
        self._lock_key = f"{key_prefix}:outbox:lock"
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._redis is not None

    async def keep(
        self, ticket: dict[str, Any], *, email: str | None, channel: str, sender_id: str, key: str
    ) -> bool:
        """Keep a ticket for later; False when even Redis is unreachable (nothing was kept)."""
        if self._redis is None:
            return False
        item = {"ticket": ticket, "email": email, "channel": channel, "sender_id": sender_id, "key": key}
        try:
            await self._redis.lpush(self.key, json.dumps(item))
        except RedisError:
            logger.exception("outbox: could not keep the ticket of %s", sender_id)
            return False
        self.start_delivery()
        return True

    async def pending(self) -> int:
        return int(await self._redis.llen(self.key)) if self._redis is not None else 0

    async def deliver(self, crm: CrmClient) -> int:
        """Send kept tickets to the CRM, oldest first, until it fails again; how many were sent."""
        if self._redis is None or not await self._redis.set(self._lock_key, "1", nx=True, ex=LOCK_SECONDS):
            return 0
        delivered = 0
        try:
            while (raw := await self._redis.lindex(self.key, -1)) is not None:
                item = json.loads(raw)
                try:
                    await _create(crm, item)
                except CrmUnavailable:
                    break
                except (Rejected, Refused) as rejection:
                    # The CRM will never take it as it is (a value it can't store, a business
                    # rule such as an order of another customer): park it for a person, don't
                    # loop on it nor hold up the tickets behind it.
                    logger.error(
                        "outbox: CRM rejected a kept ticket (%s); moved to %s", rejection, self.failed_key
                    )
                    await self._redis.lpush(self.failed_key, raw)
                else:
                    delivered += 1
                # Removed only after the CRM has it (or it is parked): a crash re-sends, and
                # the idempotency key turns the re-send into the same ticket.
                await self._redis.lrem(self.key, -1, raw)
                await self._redis.expire(self._lock_key, LOCK_SECONDS)
        finally:
            await self._redis.delete(self._lock_key)
        if delivered:
            logger.info("outbox: delivered %d kept ticket(s)", delivered)
        return delivered

    def start_delivery(self, crm: CrmClient | None = None) -> None:
        """Run the background delivery loop in this process, once."""
        if self._redis is None or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(self._deliver_forever(crm))

    async def _deliver_forever(self, crm: CrmClient | None) -> None:
        from actions.crm_client import shared_crm_client

        client = crm or shared_crm_client()
        while True:
            try:
                if await self.pending():
                    await self.deliver(client)
            except (RedisError, OSError):
                logger.warning("outbox: Redis unavailable, retrying", exc_info=True)
            except Exception:
                # An answer the client can't read, a bug: the kept tickets stay, and the
                # loop must go on, or nothing is delivered until an action restarts it.
                logger.exception("outbox: delivery failed, retrying")
            await asyncio.sleep(DELIVERY_INTERVAL_SECONDS)


async def _create(crm: CrmClient, item: dict[str, Any]) -> None:
    ticket = dict(item["ticket"])
    if ticket.get("customer_id") is None and item.get("email"):
        ticket["customer_id"] = await crm.resolve_customer(
            channel=item["channel"], external_id=item["sender_id"], email=item["email"]
        )
    await crm.create_ticket(ticket, idempotency_key=item["key"])


_shared_outbox: Outbox | None = None


def shared_outbox() -> Outbox:
    """The action server's outbox on REDIS_URL (disabled when it is not set)."""
    global _shared_outbox
    if _shared_outbox is None:
        url = os.environ.get("REDIS_URL") or ""
        client = aioredis.Redis.from_url(url) if url else None
        _shared_outbox = Outbox(client, os.environ.get("ACTIONS_REDIS_KEY_PREFIX") or "actions")
    return _shared_outbox
