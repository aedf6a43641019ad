"""bench-handoff's four paths and the open-loop sender that drives them.

Two paths run through the product, each with a same-run baseline that is the bare transport
at its far end, measured over the same sockets:

- `agent` (ours): the agent's reply, `POST /api/handoffs/{id}/messages` on the CRM (auth,
  store, Rasa's tracker-events API) until the widget's socket gets `bot_uttered`.
  `rasa` (baseline): the same `bot` event posted straight to Rasa's tracker-events API, as
  the CRM posts it, until the same socket gets it.
- `customer` (ours): the widget's `user_uttered` (Rasa: NLU, tracker, event broker; the
  Redis stream; the CRM's consumer: store and commit; Redis pub/sub) until the console's
  /api/live socket gets `message.created`.
  `pubsub` (baseline): a `PUBLISH` on the live channel until the same /api/live socket
  forwards it: the last hop alone.

Messages go out on a fixed schedule, not one after the other's arrival (open loop), so a
slow delivery does not hold the next message back and its cost shows in the numbers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from redis.asyncio import Redis

from bench.handoff_clients import WidgetSocket
from bench.handoff_metrics import PathRecorder

AGENT, RASA, CUSTOMER, PUBSUB = "agent", "rasa", "customer", "pubsub"
TO_WIDGET = (RASA, AGENT)  # (baseline, ours), arriving on the widget's socket
TO_CONSOLE = (PUBSUB, CUSTOMER)  # arriving on the console's /api/live socket
PREFIX = "bench-"


def message_key(path: str, socket: WidgetSocket, sequence: int) -> str:
    """A unique, readable text: `bench-<path> <conversation> n<sequence>`."""
    return f"{PREFIX}{path} {socket.label} n{sequence:04d}"


def path_of(text: str) -> str | None:
    """The path a bench message's text names, or None for any other text."""
    if not text.startswith(PREFIX):
        return None
    return text[len(PREFIX) :].split(" ", 1)[0]


@dataclass
class Arrivals:
    """Routes arriving texts to the recorders of the paths they were sent on."""

    recorders: dict[str, PathRecorder] = field(default_factory=dict)

    def on(self, paths: Sequence[str]) -> Callable[[str, float], None]:
        """A callback for one socket: only these paths can arrive on it."""

        def arrived(text: str, at: float) -> None:
            path = path_of(text)
            if path in paths and path in self.recorders:
                self.recorders[path].arrived(text, at)

        return arrived


@dataclass
class Senders:
    """How each path puts one message on its way."""

    crm: httpx.AsyncClient  # the agent's, logged in
    rasa: httpx.AsyncClient  # Rasa's HTTP API, with its token
    redis: Redis
    live_channel: str
    # Sent messages of ours per conversation, in send order: what the CRM must hold.
    stored_log: dict[str, list[str]] = field(default_factory=dict)
    agent_post_ms: list[float] = field(default_factory=list)

    async def send(self, path: str, socket: WidgetSocket, key: str) -> bool:
        """Send `key` on `path`; False if the server refused it."""
        if path == CUSTOMER:
            self.stored_log.setdefault(socket.session_id, []).append(key)
            socket.say(key)
            return True
        if path == PUBSUB:
            await self.redis.publish(self.live_channel, json.dumps({"type": "bench.probe", "text": key}))
            return True
        if path == AGENT:
            self.stored_log.setdefault(socket.session_id, []).append(key)
            started = time.perf_counter()
            response = await self.crm.post(f"/api/handoffs/{socket.handoff_id}/messages", json={"text": key})
            self.agent_post_ms.append((time.perf_counter() - started) * 1000)
            return response.status_code == 201
        if path == RASA:
            event = {"event": "bot", "text": key, "timestamp": time.time()}
            response = await self.rasa.post(
                f"/conversations/{quote(socket.session_id, safe='')}/tracker/events",
                params={"execute_side_effects": "true", "output_channel": "latest", "include_events": "NONE"},
                json=[event],
            )
            return response.status_code < 400
        raise ValueError(f"unknown path {path!r}")


@dataclass
class Schedule:
    """The load of one phase: messages per conversation, one every `interval_s` in each."""

    per_conversation: int
    interval_s: float
    settle_s: float
    next_sequence: dict[tuple[str, str], int] = field(default_factory=dict)

    def sequence(self, path: str, socket: WidgetSocket) -> int:
        """The next sequence number of `path` in this conversation (continues across phases)."""
        key = (path, socket.session_id)
        self.next_sequence[key] = self.next_sequence.get(key, -1) + 1
        return self.next_sequence[key]


async def run_phase(
    path: str,
    sockets: Sequence[WidgetSocket],
    recorder: PathRecorder,
    senders: Senders,
    schedule: Schedule,
) -> None:
    """Send on one path from every conversation at once, staggered evenly; wait for arrivals."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    gap = schedule.interval_s / len(sockets)
    sends: list[asyncio.Task[None]] = []

    async def one(socket: WidgetSocket) -> None:
        sequence = schedule.sequence(path, socket)
        key = message_key(path, socket, sequence)
        recorder.sent(key, conversation=socket.session_id, sequence=sequence, at=time.perf_counter())
        try:
            accepted = await senders.send(path, socket, key)
        except (httpx.HTTPError, OSError):
            accepted = False
        if not accepted:
            recorder.send_failed()

    for number in range(schedule.per_conversation):
        for index, socket in enumerate(sockets):
            due = start + number * schedule.interval_s + index * gap
            await asyncio.sleep(max(0.0, due - loop.time()))
            sends.append(asyncio.create_task(one(socket)))
    await asyncio.gather(*sends)
    await wait_until(lambda: recorder.outstanding() == 0, schedule.settle_s)


async def wait_until(done: Callable[[], bool], timeout_s: float, poll_s: float = 0.02) -> bool:
    """Poll `done` until it is true or `timeout_s` passed; whether it became true."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll_s)
    return True
