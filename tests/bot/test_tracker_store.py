"""bot/tracker_store.py against a real Redis: what it streams and stores is RedisTrackerStore's.

Both stores, Rasa's and ours, live side by side under their own key prefixes and get the same
saves: a first message, a longer conversation, then a second conversation session saved the
way Rasa's processor saves it (the latest session only, merged with the stored earlier one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import RedisTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SingleReadRedisTrackerStore, latest_session

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
SENDER = "web-5f1c"


class CollectingBroker(EventBroker):  # type: ignore[misc]
    """Keeps what a tracker store publishes, to compare two stores' streams."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)

    def is_ready(self) -> bool:
        return True


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(BOT_DIR / "domain.yml")


@pytest.fixture
def prefixes() -> Iterator[tuple[str, str]]:
    run = uuid.uuid4().hex[:10]
    both = (f"testrasa{run}", f"testours{run}")
    yield both
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    for prefix in both:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


def _stores(domain: Domain, prefixes: tuple[str, str]) -> tuple[Any, Any]:
    rasas = RedisTrackerStore(
        domain, host="127.0.0.1", key_prefix=prefixes[0], event_broker=CollectingBroker()
    )
    ours = SingleReadRedisTrackerStore(
        domain, host="127.0.0.1", key_prefix=prefixes[1], event_broker=CollectingBroker()
    )
    return rasas, ours


def _session(start: float, *texts: str) -> list[Any]:
    events: list[Any] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
    ]
    events.append(ActionExecuted("action_listen", timestamp=start + 0.1))
    for number, text in enumerate(texts, start=1):
        at = start + number
        events += [
            UserUttered(text, {"name": "track_order", "confidence": 0.9}, timestamp=at),
            SlotSet("order_number", f"ORD-10000{number}", timestamp=at + 0.1),
            ActionExecuted("action_order_request", timestamp=at + 0.2),
            BotUttered(f"answer {number}", timestamp=at + 0.3),
            ActionExecuted("action_listen", timestamp=at + 0.4),
        ]
    return events


def _stored(store: Any) -> Any:
    return json.loads(store.red.get(store.key_prefix + SENDER))


async def test_saves_stream_and_store_exactly_what_rasas_store_does(domain, prefixes):
    rasas, ours = _stores(domain, prefixes)
    first = _session(1000.0, "where is my order")
    longer = _session(1000.0, "where is my order", "and the other one", "thanks")
    second = _session(5000.0, "hello again")
    saves = [
        DialogueStateTracker.from_events(SENDER, first, domain.slots),
        DialogueStateTracker.from_events(SENDER, longer, domain.slots),
        # Rasa's processor holds the latest session only; the store merges the earlier one back.
        DialogueStateTracker.from_events(SENDER, second, domain.slots),
        DialogueStateTracker.from_events(
            SENDER, [*second, BotUttered("one more", timestamp=5010.0)], domain.slots
        ),
    ]
    for tracker in saves:
        await rasas.save(tracker.copy())
        await ours.save(tracker.copy())
        assert _stored(ours) == _stored(rasas)
        assert ours.event_broker.published == rasas.event_broker.published

    # Every event of the first session went out once, in order (Rasa counts the second
    # session's events against the stored tracker's, and both stores do the same).
    first_session = [e["timestamp"] for e in rasas.event_broker.published][: len(longer)]
    assert first_session == [e.timestamp for e in longer]
    stored = await ours.retrieve_full_tracker(SENDER)
    assert [e.timestamp for e in stored.events] == [e.timestamp for e in longer + second] + [5010.0]
    latest = await ours.retrieve(SENDER)
    assert latest.events[0].timestamp == 5000.0  # the last session, as Rasa's retrieve gives


def test_latest_session_is_the_last_conversation_session(domain):
    both = DialogueStateTracker.from_events(SENDER, _session(1.0, "a") + _session(50.0, "b"), domain.slots)
    assert latest_session(None) is None
    assert latest_session(both).events[0].timestamp == 50.0
    one = DialogueStateTracker.from_events(SENDER, _session(1.0, "a"), domain.slots)
    assert latest_session(one) is one


def test_rasa_builds_it_from_endpoints_yml(domain, prefixes, monkeypatch):
    # As devstack starts Rasa: the values come from the environment, Rasa runs in bot/.
    for name, value in {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "0",
        "REDIS_PASSWORD": "",
        "RASA_REDIS_KEY_PREFIX": prefixes[1],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(BOT_DIR))
    endpoints = AvailableEndpoints.read_endpoints(str(BOT_DIR / "endpoints.yml"))
    store = TrackerStore.create(endpoints.tracker_store, domain)

    inner = store
    while hasattr(inner, "_tracker_store"):  # Rasa wraps it (fail-safe, awaitable)
        inner = inner._tracker_store
    # Rasa falls back to an in-memory store, with only a warning, if the class can't be imported.
    assert (type(inner).__module__, type(inner).__name__) == ("tracker_store", "SingleReadRedisTrackerStore")
    assert inner.key_prefix == f"{prefixes[1]}:tracker:"
