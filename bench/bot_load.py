"""Closed-loop load on a Rasa REST channel: N conversations at once, one timed turn each.

Every turn opens a fresh conversation (a new sender id), so every measured turn does the same
work: session start, NLU, policies, actions, tracker load and save. A conversation that went
on would make each turn slower than the last as its tracker grows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

WEBHOOK = "/webhooks/rest/webhook"
# Long enough for a turn queued behind twenty others on two cores; a timeout is an error.
TURN_TIMEOUT_S = 60.0
ERROR_SAMPLES_KEPT = 5


@dataclass(frozen=True, slots=True)
class Probe:
    """One message to send and a text every correct reply contains."""

    text: str
    expect: str


@dataclass(frozen=True, slots=True)
class Target:
    """A Rasa server under load and the messages it is sent, taken in turn."""

    name: str
    base_url: str
    probes: tuple[Probe, ...]


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How one turn went: its latency, and why it failed if it did."""

    milliseconds: float
    error: str | None
    sender: str


@dataclass
class LevelResult:
    """The turns of one server at one concurrency, pooled over rounds."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def add(self, outcomes: Sequence[TurnOutcome], seconds: float) -> None:
        """Pool one round's turns and its wall-clock time into this result."""
        self.seconds += seconds
        for outcome in outcomes:
            if outcome.error is None:
                self.latencies_ms.append(outcome.milliseconds)
            else:
                self.errors += 1
                if len(self.error_samples) < ERROR_SAMPLES_KEPT:
                    self.error_samples.append(outcome.error)

    @property
    def turns(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        """Correct turns per second of wall-clock time."""
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """A latency percentile of the correct turns, in milliseconds (NaN without any)."""
        if not self.latencies_ms:
            return float("nan")
        return float(np.percentile(np.asarray(self.latencies_ms), q))


def reply_texts(body: Any) -> list[str]:
    """The texts of the bot's messages in a REST channel answer."""
    if not isinstance(body, list):
        return []
    return [str(message["text"]) for message in body if isinstance(message, dict) and "text" in message]


async def send_turn(client: httpx.AsyncClient, target: Target, number: int) -> TurnOutcome:
    """Open a conversation with one message and time it until the whole answer is read."""
    probe = target.probes[number % len(target.probes)]
    sender = f"bench-{target.name}-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    try:
        response = await client.post(
            target.base_url + WEBHOOK, json={"sender": sender, "message": probe.text}
        )
        body = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError) as exc:
        return TurnOutcome(0.0, f"{type(exc).__name__}: {exc}", sender)
    milliseconds = (time.perf_counter() - started) * 1000
    if body is None:
        return TurnOutcome(milliseconds, f"HTTP {response.status_code}: {response.text[:200]}", sender)
    texts = reply_texts(body)
    if not any(probe.expect in text for text in texts):
        # The first replies are enough to see what went wrong (a fallback loop repeats itself).
        return TurnOutcome(
            milliseconds, f"{probe.text!r} answered {texts[:3]!r}, not {probe.expect!r}", sender
        )
    return TurnOutcome(milliseconds, None, sender)


async def run_turns(
    client: httpx.AsyncClient, target: Target, *, concurrency: int, turns: int
) -> tuple[list[TurnOutcome], float]:
    """`turns` turns by `concurrency` conversations at once; the outcomes and the wall-clock seconds."""
    numbers = iter(range(turns))
    outcomes: list[TurnOutcome] = []

    async def conversation_slot() -> None:
        # Closed loop: a slot starts its next conversation as soon as its last turn is answered.
        for number in numbers:
            outcomes.append(await send_turn(client, target, number))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(conversation_slot())
    return outcomes, time.perf_counter() - started


def client_for(concurrency: int) -> httpx.AsyncClient:
    """An HTTP client with a kept-alive connection per concurrent conversation."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(timeout=TURN_TIMEOUT_S, limits=limits)


async def measure_level(
    target: Target, *, concurrency: int, turns: int, warmup: int
) -> tuple[list[TurnOutcome], float]:
    """Warm up (discarded), then time `turns` turns at `concurrency`; outcomes and wall-clock seconds."""
    async with client_for(concurrency) as client:
        if warmup:
            await run_turns(client, target, concurrency=concurrency, turns=warmup)
        return await run_turns(client, target, concurrency=concurrency, turns=turns)
