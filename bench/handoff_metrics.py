"""bench-handoff's accounting: when each message was sent and arrived, and what went wrong.

Pure bookkeeping, no I/O: the benchmark's senders and receivers call `sent` and `arrived`
(receivers from socket.io's threads too, hence the lock), and `result` turns that into
latencies and counts of lost, duplicated and out-of-order messages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Sent:
    """One message put on a path: its conversation, its place in it, and when it left."""

    conversation: str
    sequence: int
    at: float


@dataclass(frozen=True, slots=True)
class PathResult:
    """What one path delivered: latencies of first arrivals and the ways delivery failed."""

    name: str
    latencies_ms: tuple[float, ...]
    sent: int
    received: int
    duplicated: int
    out_of_order: int
    send_errors: int

    @property
    def lost(self) -> int:
        """Sent (without a send error) and never arrived."""
        return self.sent - self.send_errors - self.received

    def percentile(self, q: float) -> float:
        """The q-th percentile of the latencies in ms (linear interpolation); NaN if none arrived."""
        if not self.latencies_ms:
            return float("nan")
        return float(np.percentile(self.latencies_ms, q))

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def clean(self) -> bool:
        """Every message arrived once, in order, and every send was accepted."""
        return self.lost == 0 and self.duplicated == 0 and self.out_of_order == 0 and self.send_errors == 0


@dataclass
class PathRecorder:
    """Sends and arrivals of one path, keyed by the message's (unique) text."""

    name: str
    _sent: dict[str, Sent] = field(default_factory=dict)
    _arrivals: list[tuple[str, float]] = field(default_factory=list)
    _send_errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, key: str, *, conversation: str, sequence: int, at: float) -> None:
        """Note a message just before it is sent."""
        with self._lock:
            if key in self._sent:
                raise ValueError(f"{self.name}: message {key!r} sent twice; keys must be unique")
            self._sent[key] = Sent(conversation, sequence, at)

    def send_failed(self) -> None:
        """A send the server refused or that raised: not counted as lost in transit."""
        with self._lock:
            self._send_errors += 1

    def arrived(self, key: str, at: float) -> None:
        """Note an arrival; keys this path never sent are ignored (other traffic on the socket)."""
        with self._lock:
            if key in self._sent:
                self._arrivals.append((key, at))

    def outstanding(self) -> int:
        """Messages sent that have not arrived yet."""
        with self._lock:
            return len(self._sent) - self._send_errors - len({key for key, _ in self._arrivals})

    def result(self) -> PathResult:
        """Latency per first arrival; a repeat arrival is a duplicate; within a conversation, a
        first arrival whose sequence is lower than one already arrived is out of order."""
        with self._lock:
            sent = dict(self._sent)
            arrivals = list(self._arrivals)
            send_errors = self._send_errors
        first: dict[str, float] = {}
        duplicated = 0
        out_of_order = 0
        highest: dict[str, int] = {}
        for key, at in arrivals:
            if key in first:
                duplicated += 1
                continue
            first[key] = at
            message = sent[key]
            if message.sequence < highest.get(message.conversation, -1):
                out_of_order += 1
            highest[message.conversation] = max(message.sequence, highest.get(message.conversation, -1))
        latencies = tuple((at - sent[key].at) * 1000 for key, at in first.items())
        return PathResult(
            name=self.name,
            latencies_ms=latencies,
            sent=len(sent),
            received=len(first),
            duplicated=duplicated,
            out_of_order=out_of_order,
            send_errors=send_errors,
        )


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """One conversation's record in the CRM against what was sent in it."""

    expected: int
    missing: int
    duplicated: int
    in_order: bool

    @property
    def clean(self) -> bool:
        return self.missing == 0 and self.duplicated == 0 and self.in_order


def check_store(expected: Sequence[str], stored: Sequence[str]) -> StoreCheck:
    """Compare the texts sent (in send order) with the conversation's stored texts (in its order).

    Stored texts that were never sent (bot lines, notices) are ignored.
    """
    wanted = set(expected)
    ours = [text for text in stored if text in wanted]
    seen = list(dict.fromkeys(ours))  # first occurrences, in stored order
    present = set(seen)
    return StoreCheck(
        expected=len(expected),
        missing=len(wanted - present),
        duplicated=len(ours) - len(seen),
        in_order=seen == [text for text in expected if text in present],
    )


def combine(checks: Sequence[StoreCheck]) -> StoreCheck:
    """Every conversation's check as one."""
    return StoreCheck(
        expected=sum(c.expected for c in checks),
        missing=sum(c.missing for c in checks),
        duplicated=sum(c.duplicated for c in checks),
        in_order=all(c.in_order for c in checks),
    )
