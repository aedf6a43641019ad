"""A Rasa event broker that appends every tracker event to a Redis stream for the CRM.

Configured in endpoints.yml (`event_broker: type: event_broker.RedisStreamEventBroker`).
Rasa calls `publish` synchronously inside its event loop, so publishing only queues the
event; one background thread writes the queue to Redis in order. When Redis is briefly
unreachable the events stay queued (logged), and the thread retries until they are written:
no turn fails and no event is dropped. Rasa's tracker store lives in the same Redis, so an
outage long enough to matter stops the turns themselves, and the queue stays small.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from asyncio import AbstractEventLoop
from collections import deque
from typing import Any

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# XADD ... MAXLEN ~ cap. The CRM acknowledges entries within milliseconds; a million entries
# (a few hundred MB at most) is weeks of traffic for a shop, so the cap only stops unbounded
# growth if the CRM is gone for good; it never trims entries a live consumer has not read.
DEFAULT_MAX_LEN = 1_000_000
# Entries per round trip when catching up after an outage.
BATCH_SIZE = 500
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
# A warning each time the queue grows by this many events during an outage.
QUEUE_WARNING_STEP = 1000

# 13-19 digits, optionally grouped by spaces or dashes: the shape of a payment card number.
_CARD_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_CARD_CODE = re.compile(r"\b(cvv2?|cvc2?|security code|card code)(\W{0,3})\d{3,4}\b", re.IGNORECASE)


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact_card_numbers(text: str) -> str:
    """The text with card numbers (Luhn-valid) and card security codes replaced."""

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "[card number removed]" if _passes_luhn(digits) else match.group(0)

    return _CARD_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}[removed]", _CARD_CANDIDATE.sub(card, text))


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of a user event with card numbers removed from its text; other events as they are.

    Rasa records the customer's text verbatim in its tracker; the CRM's record, read by many
    people, must never hold a card number.
    """
    if event.get("event") != "user":
        return event
    redacted = dict(event)
    if isinstance(event.get("text"), str):
        redacted["text"] = redact_card_numbers(event["text"])
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict) and isinstance(parse_data.get("text"), str):
        redacted["parse_data"] = {**parse_data, "text": redact_card_numbers(parse_data["text"])}
        # Entity values are pieces of the text: a card number could hide in one.
        if isinstance(parse_data.get("entities"), list):
            redacted["parse_data"]["entities"] = [
                {**e, "value": redact_card_numbers(e["value"])}
                if isinstance(e, dict) and isinstance(e.get("value"), str)
                else e
                for e in parse_data["entities"]
            ]
    return redacted


class RedisStreamEventBroker(EventBroker):  # type: ignore[misc,unused-ignore]  # rasa is untyped where tests import it
    """Appends each event as one stream entry {"event_id": <uuid>, "event": <json>}."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        password: str | None = None,
        stream: str = "shopbot:events",
        max_len: int = DEFAULT_MAX_LEN,
        client: redis.Redis | None = None,
    ) -> None:
        self.stream = stream
        self.max_len = max_len
        self._client = client or redis.Redis(
            host=host,
            port=port,
            db=db,
            password=password or None,
            socket_timeout=5,
            socket_connect_timeout=2,
        )
        self._queue: deque[tuple[str, str]] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="redis-event-broker", daemon=True)
        self._thread.start()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> RedisStreamEventBroker:
        """Build the broker from endpoints.yml; the stream defaults to "<key_prefix>:events"."""
        kwargs = broker_config.kwargs
        prefix = str(kwargs.get("key_prefix") or "shopbot")
        # An env var endpoints.yml cannot default, so it is read here.
        stream = os.environ.get("RASA_EVENT_STREAM") or f"{prefix}:events"
        broker = cls(
            host=str(broker_config.url or "127.0.0.1"),
            port=int(kwargs.get("port") or 6379),
            db=int(kwargs.get("db") or 0),
            password=str(kwargs.get("password") or "") or None,
            stream=stream,
            max_len=int(kwargs.get("max_len") or DEFAULT_MAX_LEN),
        )
        logger.info("Streaming conversation events to Redis stream %r.", stream)
        return broker

    def publish(self, event: dict[str, Any]) -> None:
        """Queue the event for the stream (never blocks the turn, never raises for Redis)."""
        body = json.dumps(redact_event(event), ensure_ascii=False)
        with self._wake:
            # The id is fixed here, once: a batch re-sent after a lost reply is recognised
            # by the CRM as the same events.
            self._queue.append((uuid.uuid4().hex, body))
            self._wake.notify()

    def is_ready(self) -> bool:
        """True once Redis answers."""
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    @property
    def queued(self) -> int:
        """Events not yet written to the stream."""
        return len(self._queue)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is written; False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue

    async def close(self) -> None:
        """Write what is queued (up to 5 s), then stop the writer thread."""
        if not self.flush(5.0):
            logger.error("Rasa stops with %d events not yet written to %r.", len(self._queue), self.stream)
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        failures = 0
        warned_at = 0
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if self._closing and (not self._queue or failures):
                    return
                batch = [self._queue[i] for i in range(min(BATCH_SIZE, len(self._queue)))]
            try:
                self._write(batch)
            except redis.RedisError as error:
                failures += 1
                if failures == 1 or len(self._queue) >= warned_at + QUEUE_WARNING_STEP:
                    warned_at = len(self._queue)
                    logger.warning(
                        "Redis stream %r unreachable (%s); %d events queued, retrying.",
                        self.stream, error, len(self._queue),
                    )  # fmt: skip
                time.sleep(RETRY_DELAYS[min(failures - 1, len(RETRY_DELAYS) - 1)])
                continue
            with self._wake:
                for _ in batch:
                    self._queue.popleft()
            if failures:
                logger.warning("Redis stream %r reachable again; queued events delivered.", self.stream)
                failures = 0
                warned_at = 0

    def _write(self, batch: list[tuple[str, str]]) -> None:
        # MULTI/EXEC: a batch is written whole or not at all.
        pipeline = self._client.pipeline(transaction=True)
        for event_id, body in batch:
            pipeline.xadd(
                self.stream, {"event_id": event_id, "event": body}, maxlen=self.max_len, approximate=True
            )
        pipeline.execute()
