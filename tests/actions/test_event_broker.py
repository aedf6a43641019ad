"""bot/event_broker.py against a real Redis: order, card redaction, and a Redis outage."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.event_broker import RedisStreamEventBroker, redact_card_numbers

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 0}
CARD = "4111 1111 1111 1111"  # a test card number: passes the Luhn check


@pytest.fixture
def stream() -> Iterator[str]:
    key = f"test-broker-{uuid.uuid4().hex[:10]}:events"
    yield key
    redis.Redis(**REDIS).delete(key)


def _entries(key: str, port: int = 6379) -> list[dict[str, Any]]:
    client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    return [{**fields, "body": json.loads(fields["event"])} for _id, fields in client.xrange(key)]


def _user_event(text: str) -> dict[str, Any]:
    return {
        "sender_id": "s1",
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "entities": []},
        "input_channel": "socketio",
    }


async def test_events_reach_the_stream_in_order(stream: str):
    broker = RedisStreamEventBroker(stream=stream, **REDIS)  # type: ignore[arg-type]
    for number in range(50):
        broker.publish({"sender_id": "s1", "event": "bot", "text": f"line {number}"})
    assert broker.flush(5)
    await broker.close()

    entries = _entries(stream)
    assert [e["body"]["text"] for e in entries] == [f"line {n}" for n in range(50)]
    assert len({e["event_id"] for e in entries}) == 50


async def test_card_numbers_never_reach_the_stream(stream: str):
    broker = RedisStreamEventBroker(stream=stream, **REDIS)  # type: ignore[arg-type]
    broker.publish(_user_event(f"my card {CARD} cvv 123 was charged twice"))
    broker.publish({"sender_id": "s1", "event": "slot", "name": "x", "value": "y"})
    assert broker.flush(5)
    await broker.close()

    user, slot = (e["body"] for e in _entries(stream))
    assert user["text"] == "my card [card number removed] cvv [removed] was charged twice"
    assert user["parse_data"]["text"] == user["text"]
    assert user["parse_data"]["intent"]["name"] == "inform"
    assert "4111" not in json.dumps(user)
    assert slot == {"sender_id": "s1", "event": "slot", "name": "x", "value": "y"}


def test_digits_that_are_no_card_number_stay():
    assert redact_card_numbers("tracking 1234 5678 9012 3456 shows nothing") == (
        "tracking 1234 5678 9012 3456 shows nothing"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_events_published_while_redis_is_down_are_delivered_when_it_is_back(stream: str):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is installed by make setup"
    port = _free_port()
    broker = RedisStreamEventBroker(host="127.0.0.1", port=port, stream=stream)
    broker.publish({"sender_id": "s1", "event": "bot", "text": "before"})
    broker.publish({"sender_id": "s1", "event": "bot", "text": "during"})
    time.sleep(0.5)
    assert broker.queued == 2  # kept, not dropped, and publish() did not raise

    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        broker.publish({"sender_id": "s1", "event": "bot", "text": "after"})
        assert broker.flush(15)
        asyncio.run(broker.close())
        assert [e["body"]["text"] for e in _entries(stream, port)] == ["before", "during", "after"]
    finally:
        server.terminate()
        server.wait(5)


async def test_built_from_endpoints_yml_with_the_default_stream_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RASA_EVENT_STREAM", raising=False)
    config = EndpointConfig(
        url="127.0.0.1", type="event_broker.RedisStreamEventBroker", port="6379", db="0", password="",
        key_prefix="shopx",
    )  # fmt: skip
    broker = await RedisStreamEventBroker.from_endpoint_config(config)
    assert broker.stream == "shopx:events"
    assert broker.is_ready()
    await broker.close()
