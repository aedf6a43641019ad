"""The stream consumer against real Redis and both databases: dedupe, restarts, poison, order."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent
from crm_backend.conversations.models import Conversation, ConversationStatus, Message, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.events.consumer import EventConsumer
from tests.crm_backend.events.conftest import ConsumerFactory, StreamKeys, add_event, bot_event, user_event


def new_sender() -> str:
    return f"sender-{uuid.uuid4().hex[:10]}"


async def messages_of(session: AsyncSession, sender_id: str) -> list[Message]:
    rows = await session.scalars(
        select(Message).join(Conversation).where(Conversation.sender_id == sender_id).order_by(Message.id)
    )
    return list(rows)


async def conversation_of(session: AsyncSession, sender_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation)
        .where(Conversation.sender_id == sender_id)
        .execution_options(populate_existing=True)
    )


async def pending(redis: Redis, keys: StreamKeys) -> int:
    summary = await redis.xpending(keys.stream, "crm")
    return int(summary["pending"])


async def collect(subscriber: PubSub, count: int) -> list[dict[str, Any]]:
    """The next `count` live events (fewer if they don't come within 5 s)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 5
    while len(events) < count and time.monotonic() < deadline:
        message = await subscriber.get_message(timeout=0.2)
        if message is not None:
            events.append(json.loads(message["data"]))
    await subscriber.aclose()
    return events


async def drain(consumer: EventConsumer) -> None:
    """Take over (pending entries first), then read until the stream has nothing new."""
    await consumer.ensure_group()
    await consumer.take_over()
    while await consumer.consume_new():
        pass


async def test_user_and_bot_events_become_messages_and_others_are_acked(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    sender = new_sender()
    await add_event(redis_client, keys.stream, user_event(sender, "where is my order?"))
    await add_event(
        redis_client, keys.stream, {"sender_id": sender, "event": "action", "name": "action_listen"}
    )
    buttons = [{"title": "Yes", "payload": "/affirm"}]
    await add_event(redis_client, keys.stream, bot_event(sender, "Which order?", data={"buttons": buttons}))

    await drain(make_consumer())

    customer, bot = await messages_of(session, sender)
    assert (customer.author, customer.text, customer.channel) == (
        MessageAuthor.CUSTOMER,
        "where is my order?",
        Channel.WEB,
    )
    assert customer.intent == "order_status"
    assert customer.intent_confidence == pytest.approx(0.87)
    assert (bot.author, bot.text, bot.payload, bot.channel) == (
        MessageAuthor.BOT,
        "Which order?",
        {"buttons": buttons},
        Channel.WEB,
    )
    conversation = await conversation_of(session, sender)
    assert conversation is not None
    assert conversation.message_count == 2
    assert await pending(redis_client, keys) == 0


async def test_a_redelivered_entry_stores_nothing_new(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    sender = new_sender()
    event = user_event(sender, "hello")
    # The broker re-sent a batch whose reply it lost: same event id, new stream entry.
    await add_event(redis_client, keys.stream, event, event_id="broker-id-1")
    await add_event(redis_client, keys.stream, event, event_id="broker-id-1")
    consumer = make_consumer()
    await drain(consumer)
    # And the consumer itself sees an entry twice.
    entry_id = await add_event(redis_client, keys.stream, user_event(sender, "again"))
    await drain(consumer)
    entries: Any = await redis_client.xrange(keys.stream, min=entry_id, max=entry_id)
    [(_id, fields)] = entries
    await consumer.handle(entry_id, {k.decode(): v.decode() for k, v in fields.items()})

    assert [m.text for m in await messages_of(session, sender)] == ["hello", "again"]


class CrashBeforeAck(EventConsumer):
    """Dies after its commit and before XACK, like a process killed at the worst moment."""

    async def acknowledge(self, *entry_ids: str) -> None:
        raise SystemExit("killed between commit and ack")


@pytest.mark.parametrize("same_name", [True, False], ids=["restarted", "other-process"])
async def test_restart_between_commit_and_ack_loses_and_duplicates_nothing(
    make_consumer: ConsumerFactory,
    redis_client: Redis,
    keys: StreamKeys,
    session: AsyncSession,
    same_name: bool,
):
    sender = new_sender()
    for number in range(5):
        await add_event(redis_client, keys.stream, user_event(sender, f"message {number}"))
    crashing = make_consumer(CrashBeforeAck, batch_size=3)
    await crashing.ensure_group()
    with pytest.raises(SystemExit):
        await crashing.consume_new()
    # The first read's three entries committed together, none acknowledged: all three are
    # pending for the dead consumer.
    assert [m.text for m in await messages_of(session, sender)] == ["message 0", "message 1", "message 2"]
    assert await pending(redis_client, keys) == 3

    # The same process restarted reads its own pending entries; another one claims them.
    successor = make_consumer(name="crm-1" if same_name else "crm-2")
    await drain(successor)

    assert [m.text for m in await messages_of(session, sender)] == [f"message {n}" for n in range(5)]
    assert await pending(redis_client, keys) == 0
    consumers = await redis_client.xinfo_consumers(keys.stream, "crm")
    assert [c["name"] for c in consumers] == [successor.name.encode()]


async def test_a_poison_entry_is_parked_and_does_not_block_the_stream(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    sender = new_sender()
    await add_event(redis_client, keys.stream, user_event(sender, "before"))
    poison_id = await redis_client.xadd(keys.stream, {"event": "{not json"})
    await redis_client.xadd(keys.stream, {"event": json.dumps({"event": "user", "text": "no sender"})})
    await add_event(redis_client, keys.stream, user_event(sender, "after"))

    await drain(make_consumer())

    assert [m.text for m in await messages_of(session, sender)] == ["before", "after"]
    parked: Any = await redis_client.xrange(f"{keys.stream}:dead")
    assert next(fields[b"entry_id"] for _id, fields in parked) == poison_id
    assert parked[0][1][b"event"] == b"{not json"
    assert b"not a JSON event" in parked[0][1][b"reason"]
    assert b"sender_id" in parked[1][1][b"reason"]
    assert await pending(redis_client, keys) == 0


async def test_200_messages_are_stored_in_stream_order(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    senders = [new_sender(), new_sender()]
    pipeline = redis_client.pipeline()
    for number in range(200):
        # Two conversations interleaved, as two customers writing at once.
        event = user_event(senders[number % 2], f"message {number}")
        pipeline.xadd(keys.stream, {"event_id": uuid.uuid4().hex, "event": json.dumps(event)})
    await pipeline.execute()

    await drain(make_consumer(batch_size=37))

    for index, sender in enumerate(senders):
        texts = [m.text for m in await messages_of(session, sender)]
        assert texts == [f"message {n}" for n in range(index, 200, 2)]


async def test_pause_and_resume_switch_the_conversation_status(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    sender = new_sender()
    subscriber = redis_client.pubsub(ignore_subscribe_messages=True)
    await subscriber.subscribe(keys.live)
    await add_event(redis_client, keys.stream, user_event(sender, "a person please"))
    await add_event(redis_client, keys.stream, {"sender_id": sender, "event": "pause", "timestamp": 1})
    consumer = make_consumer()
    await drain(consumer)
    conversation = await conversation_of(session, sender)
    assert conversation is not None
    assert conversation.status is ConversationStatus.HANDED_OFF

    await add_event(redis_client, keys.stream, {"sender_id": sender, "event": "resume", "timestamp": 2})
    await add_event(redis_client, keys.stream, {"sender_id": sender, "event": "resume", "timestamp": 3})
    await drain(consumer)
    conversation = await conversation_of(session, sender)
    assert conversation is not None
    assert conversation.status is ConversationStatus.ACTIVE

    published = await collect(subscriber, 3)
    assert [event["type"] for event in published] == [
        "message.created",
        "conversation.changed",
        "conversation.changed",
    ]
    assert published[0]["message"]["text"] == "a person please"
    assert [event.get("status") for event in published[1:]] == ["handed_off", "active"]


async def test_an_agent_reply_echoed_by_rasa_is_recognised(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession, agent: Agent
):
    sender = new_sender()
    await add_event(redis_client, keys.stream, user_event(sender, "hi"))
    metadata = {"crm_event_id": "crm-reply-1", "agent_id": agent.id, "agent_name": agent.name}
    await add_event(
        redis_client, keys.stream, bot_event(sender, "Hello, I'm here to help", metadata=metadata)
    )
    await add_event(
        redis_client, keys.stream, bot_event(sender, "Hello, I'm here to help", metadata=metadata)
    )
    unknown = {"crm_event_id": "crm-reply-2", "agent_id": 2_000_000_000}
    await add_event(redis_client, keys.stream, bot_event(sender, "from a deleted agent", metadata=unknown))

    await drain(make_consumer())

    _customer, reply, orphan = await messages_of(session, sender)
    assert (reply.author, reply.agent_id, reply.event_id) == (MessageAuthor.AGENT, agent.id, "crm-reply-1")
    assert (orphan.author, orphan.agent_id, orphan.text) == (
        MessageAuthor.AGENT,
        None,
        "from a deleted agent",
    )


async def test_only_the_lease_holder_consumes(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys
):
    first, second = make_consumer(name="crm-1"), make_consumer(name="crm-2")
    assert await first._hold_lease()
    assert not await second._hold_lease()
    await first.release_lease()
    assert await second._hold_lease()


class CountingSessions:
    """The consumer's session factory, counting the sessions (one per transaction) it hands out."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.opened = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return self.factory(*args, **kwargs)


async def test_the_entries_of_one_read_are_recorded_in_one_transaction(
    make_consumer: ConsumerFactory,
    redis_client: Redis,
    keys: StreamKeys,
    session: AsyncSession,
    session_factory: Any,
):
    senders = [new_sender(), new_sender()]
    pipeline = redis_client.pipeline()
    for number in range(6):  # what one turn of two conversations streams: user, bot, ...
        event = (user_event if number % 2 == 0 else bot_event)(senders[number % 2], f"line {number}")
        pipeline.xadd(keys.stream, {"event_id": uuid.uuid4().hex, "event": json.dumps(event)})
    pipeline.xadd(
        keys.stream, {"event": json.dumps({"sender_id": senders[0], "event": "action", "name": "x"})}
    )
    await pipeline.execute()
    counting = CountingSessions(session_factory)
    subscriber = redis_client.pubsub(ignore_subscribe_messages=True)
    await subscriber.subscribe(keys.live)

    await drain(make_consumer(session_factory=counting))

    assert counting.opened == 1  # one entry per transaction opened seven
    assert [m.text for m in await messages_of(session, senders[0])] == ["line 0", "line 2", "line 4"]
    assert [m.text for m in await messages_of(session, senders[1])] == ["line 1", "line 3", "line 5"]
    assert await pending(redis_client, keys) == 0
    announced = await collect(subscriber, 6)
    assert [event["message"]["text"] for event in announced] == [f"line {n}" for n in range(6)]


class RefusingConsumer(EventConsumer):
    """The database refuses one message (as it would a value it can't store)."""

    async def _record(self, session: AsyncSession, recorded: Any) -> Any:
        if getattr(getattr(recorded, "data", None), "text", None) == "refuse me":
            raise DBAPIError("INSERT INTO messages", {}, ValueError("value out of range"))
        return await super()._record(session, recorded)


async def test_a_batch_the_database_refuses_is_recorded_one_by_one_and_only_the_refused_entry_parked(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    sender = new_sender()
    await add_event(redis_client, keys.stream, user_event(sender, "before"))
    refused_id = await add_event(redis_client, keys.stream, user_event(sender, "refuse me"))
    await add_event(redis_client, keys.stream, user_event(sender, "after"))

    await drain(make_consumer(RefusingConsumer))

    assert [m.text for m in await messages_of(session, sender)] == ["before", "after"]
    parked: Any = await redis_client.xrange(f"{keys.stream}:dead")
    assert [fields[b"entry_id"].decode() for _id, fields in parked] == [refused_id]
    assert b"refused by the database" in parked[0][1][b"reason"]
    assert await pending(redis_client, keys) == 0
