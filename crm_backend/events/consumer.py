"""The CRM side of the event stream: record each Rasa event, commit, then acknowledge.

At-least-once delivery (an entry is acknowledged only after its commit, so a crash in
between redelivers it) plus de-duplication by event id (an entry recorded twice stores one
message) gives an exactly-once effect.

The entries of one read are recorded in one transaction and acknowledged with one XACK: a
turn's events arrive together (Rasa streams them when it saves the conversation), and a
commit each cost the CRM and the database more than the recording itself on a busy machine.
If that transaction fails, the batch is rolled back and recorded again one entry per
transaction, as before, so a database outage is waited out entry by entry and an entry the
database refuses is parked alone.

Several CRM processes may run a consumer. They share one consumer group, but only the
holder of a short lease in Redis reads: a conversation's events are then recorded in stream
order, which concurrent readers could not promise. When the holder dies its lease expires,
another process takes it over and first claims (XAUTOCLAIM) every entry still pending in the
group, its own from before a restart included, in stream order, before it reads new ones.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.conversations import service as conversations
from crm_backend.core.database import transactional_session
from crm_backend.events import live
from crm_backend.events.live import LiveEvent, LivePublisher
from crm_backend.events.mapping import MessageEvent, PoisonEntry, Recorded, StatusEvent, parse_entry
from crm_backend.widget.signed_in import attach_signed_in_customer

logger = logging.getLogger(__name__)

# Take the lease, or keep it, in one step: a consumer never extends a lease it lost.
_LEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


def default_consumer_name() -> str:
    """Unique per process: "<host>-<pid>"."""
    return f"{socket.gethostname()}-{os.getpid()}"


class EventConsumer:
    """Reads the stream in a consumer group and records what the conversations need."""

    def __init__(
        self,
        *,
        redis: Redis,
        session_factory: async_sessionmaker[AsyncSession],
        stream: str,
        group: str,
        name: str | None = None,
        publisher: LivePublisher | None = None,
        batch_size: int = 100,
        block_ms: int = 1000,
        lease_ms: int = 10_000,
        widget_token_secret: str = "",
    ) -> None:
        self.redis = redis
        self.session_factory = session_factory
        self.stream = stream
        self.group = group
        self.name = name or default_consumer_name()
        self.publisher = publisher
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.lease_ms = lease_ms
        self.widget_token_secret = widget_token_secret
        self.dead_letter_stream = f"{stream}:dead"
        self.lease_key = f"{stream}:{group}:lease"
        self._leading = False
        self._lease = redis.register_script(_LEASE_SCRIPT)

    async def ensure_group(self) -> None:
        """Create the group (and stream) if missing, from the stream's start: nothing is skipped."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def run(self) -> None:
        """Consume until cancelled; Redis or database outages are logged and waited out."""
        failures = 0
        while True:
            try:
                await self.ensure_group()
                while True:
                    if not await self._hold_lease():
                        self._leading = False
                        await asyncio.sleep(self.lease_ms / 3000)
                        continue
                    if not self._leading:
                        await self.take_over()
                        self._leading = True
                    await self.consume_new()
                    failures = 0
            except (RedisError, OSError) as error:
                failures += 1
                self._leading = False
                delay = RETRY_DELAYS[min(failures - 1, len(RETRY_DELAYS) - 1)]
                logger.warning(
                    "event stream %r: Redis error (%s); retrying in %.1f s", self.stream, error, delay
                )
                await asyncio.sleep(delay)
            except Exception:
                # A bug must not silently end consumption: log it and start over; the entry
                # it failed on is still unacknowledged and is claimed again.
                failures += 1
                self._leading = False
                logger.exception("event stream %r: consumer failed; restarting", self.stream)
                await asyncio.sleep(RETRY_DELAYS[-1])

    async def _hold_lease(self) -> bool:
        return bool(await self._lease(keys=[self.lease_key], args=[self.name, self.lease_ms]))

    async def release_lease(self) -> None:
        """Give the lease up at shutdown, so another process need not wait for it to expire."""
        if await self.redis.get(self.lease_key) in (self.name, self.name.encode()):
            await self.redis.delete(self.lease_key)

    async def take_over(self) -> int:
        """Record every entry still pending in the group (ours or a dead consumer's), in order."""
        handled = 0
        start = "0-0"
        while True:
            reply: Any = await self.redis.xautoclaim(
                self.stream, self.group, self.name, min_idle_time=0, start_id=start, count=self.batch_size
            )
            start, entries = reply[0], reply[1]
            for entry_id, fields in entries:
                if fields is not None:  # None: trimmed from the stream meanwhile
                    await self.handle(_text(entry_id), _decode(fields))
                    handled += 1
            if _text(start) == "0-0":
                break
        await self._forget_idle_consumers()
        if handled:
            logger.info("event stream %r: recovered %d pending entries", self.stream, handled)
        return handled

    async def consume_new(self) -> int:
        """Wait up to block_ms for new entries and record them; how many."""
        reply: Any = await self.redis.xreadgroup(
            self.group, self.name, {self.stream: ">"}, count=self.batch_size, block=self.block_ms
        )
        batch = [
            (_text(entry_id), _decode(fields))
            for _stream, entries in reply or []
            for entry_id, fields in entries
        ]
        await self.handle_batch(batch)
        return len(batch)

    async def handle_batch(self, batch: list[tuple[str, dict[str, str]]]) -> None:
        """Record the entries in one transaction, then publish and acknowledge them together."""
        if len(batch) < 2:
            for entry_id, fields in batch:
                await self.handle(entry_id, fields)
            return
        parsed: list[tuple[str, Recorded | None]] = []
        for entry_id, fields in batch:
            try:
                parsed.append((entry_id, parse_entry(entry_id, fields)))
            except PoisonEntry as error:
                await self._park(entry_id, fields, str(error))  # acknowledged; the rest goes on
        try:
            async with transactional_session(self.session_factory) as session:
                events: list[LiveEvent] = []
                for _entry_id, recorded in parsed:
                    if recorded is not None:
                        events += await self._record(session, recorded)
        except Exception as error:
            # Rolled back: nothing of the batch is stored. One by one, each entry gets the
            # single-entry handling (retries while the database is away, parking if refused).
            logger.info("event batch of %d recorded one by one (%s)", len(parsed), type(error).__name__)
            fields_by_id = dict(batch)
            for entry_id, _recorded in parsed:
                await self.handle(entry_id, fields_by_id[entry_id])
            return
        if events and self.publisher is not None:
            await self.publisher.publish(*events)
        if parsed:
            await self.acknowledge(*(entry_id for entry_id, _recorded in parsed))

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        """Record one entry, commit, publish to consoles, then acknowledge it."""
        try:
            recorded = parse_entry(entry_id, fields)
        except PoisonEntry as error:
            await self._park(entry_id, fields, str(error))
            return
        events: list[LiveEvent] = []
        if recorded is not None:
            events = await self._record_with_retries(entry_id, fields, recorded)
        if events and self.publisher is not None:
            await self.publisher.publish(*events)
        await self.acknowledge(entry_id)

    async def acknowledge(self, *entry_ids: str) -> None:
        """XACK: the entries' effect is committed."""
        await self.redis.xack(self.stream, self.group, *entry_ids)

    async def _record_with_retries(
        self, entry_id: str, fields: dict[str, str], recorded: Recorded
    ) -> list[LiveEvent]:
        failures = 0
        while True:
            try:
                async with transactional_session(self.session_factory) as session:
                    return await self._record(session, recorded)
            except (OperationalError, InterfaceError) as error:
                # The database is away: the entry waits (later ones too, to keep the order).
                failures += 1
                delay = RETRY_DELAYS[min(failures - 1, len(RETRY_DELAYS) - 1)]
                logger.warning("event %s not recorded (%s); retrying in %.1f s", entry_id, error, delay)
                await asyncio.sleep(delay)
            except DBAPIError as error:
                # The database refused this entry's data: retrying cannot help.
                await self._park(entry_id, fields, f"refused by the database: {error.orig}")
                return []
            except Exception as error:
                # A bug met by this entry: park it (replayable) rather than block the stream.
                logger.exception("event %s could not be recorded", entry_id)
                await self._park(entry_id, fields, f"unexpected error: {error!r}")
                return []

    async def _record(self, session: AsyncSession, recorded: Recorded) -> list[LiveEvent]:
        if isinstance(recorded, MessageEvent):
            message, created = await conversations.record_event(
                session,
                sender_id=recorded.sender_id,
                data=recorded.data,
                agent_id=recorded.agent_id,
                inherit_channel=recorded.inherit_channel,
            )
            if created and recorded.customer_token and self.widget_token_secret:
                await attach_signed_in_customer(
                    session, sender_id=recorded.sender_id, token=recorded.customer_token,
                    secret=self.widget_token_secret,
                )  # fmt: skip
            return [live.message_created(recorded.sender_id, message)] if created else []
        assert isinstance(recorded, StatusEvent)
        changed = await conversations.record_status(
            session, sender_id=recorded.sender_id, status=recorded.status
        )
        return [live.conversation_changed(recorded.sender_id, recorded.status)] if changed else []

    async def _park(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        """Move an entry that can never be recorded to the dead-letter stream, and acknowledge it."""
        logger.error("event %s parked in %r: %s", entry_id, self.dead_letter_stream, reason)
        parked: dict[Any, Any] = {**fields, "entry_id": entry_id, "reason": reason[:500]}
        await self.redis.xadd(self.dead_letter_stream, parked)
        await self.acknowledge(entry_id)

    async def _forget_idle_consumers(self) -> None:
        # Every restart adds a consumer name; drop the ones with nothing pending.
        consumers: list[dict[Any, Any]] = await self.redis.xinfo_consumers(self.stream, self.group)
        for consumer in consumers:
            info = _decode(consumer)
            name, pending = info.get("name", ""), info.get("pending", "0")
            if name != self.name and pending == "0":
                await self.redis.xgroup_delconsumer(self.stream, self.group, name)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(fields: dict[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in fields.items()}
