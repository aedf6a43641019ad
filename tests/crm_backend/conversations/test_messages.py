"""Appending messages: idempotency by event id, batches, who may post what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from crm_backend.conversations.models import Conversation, Message
from crm_backend.handoffs.models import HandoffStatus
from tests.crm_backend.conversations.factories import make_conversation, message_body
from tests.crm_backend.handoffs.factories import make_handoff


async def _messages(session, sender_id: str) -> list[Message]:
    rows = await session.scalars(
        select(Message).join(Conversation).where(Conversation.sender_id == sender_id).order_by(Message.id)
    )
    return list(rows)


async def _conversation(session, sender_id: str):
    statement = select(Conversation).where(Conversation.sender_id == sender_id)
    return (await session.scalars(statement.execution_options(populate_existing=True))).one()


async def test_first_message_creates_the_conversation_on_the_message_channel(client, session):
    response = await client.post(
        "/api/conversations/tg-42/messages",
        json=message_body(channel="telegram", intent="order_status", intent_confidence=0.93),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["author"] == "customer"
    assert body["text"] == "where is my order?"
    assert body["intent"] == "order_status"
    conversation = await _conversation(session, "tg-42")
    assert conversation.channel == "telegram"
    assert conversation.status == "active"
    assert conversation.message_count == 1


async def test_redelivered_event_stores_nothing_new_and_returns_the_stored_message(client, session):
    first = await client.post("/api/conversations/s-1/messages", json=message_body(event_id="evt-1"))
    again = await client.post(
        "/api/conversations/s-1/messages", json=message_body(event_id="evt-1", text="changed on redelivery")
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(await _messages(session, "s-1")) == 1
    assert (await _conversation(session, "s-1")).message_count == 1


async def test_same_event_id_in_another_conversation_is_a_different_message(client, session):
    await client.post("/api/conversations/s-a/messages", json=message_body(event_id="evt-1"))
    other = await client.post("/api/conversations/s-b/messages", json=message_body(event_id="evt-1"))

    assert other.status_code == 201
    assert len(await _messages(session, "s-b")) == 1


async def test_messages_without_event_id_are_always_stored(client, session):
    for _ in range(2):
        assert (await client.post("/api/conversations/s-2/messages", json=message_body())).status_code == 201

    assert len(await _messages(session, "s-2")) == 2


async def test_last_message_at_only_moves_forward_and_times_are_stored_in_utc(client, session):
    late = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
    earlier_with_offset = datetime(2030, 1, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    await client.post("/api/conversations/s-3/messages", json=message_body(sent_at=late.isoformat()))
    await client.post(
        "/api/conversations/s-3/messages", json=message_body(sent_at=earlier_with_offset.isoformat())
    )

    conversation = await _conversation(session, "s-3")
    assert conversation.last_message_at == late
    assert conversation.message_count == 2
    stored = await _messages(session, "s-3")
    assert stored[1].sent_at == datetime(2030, 1, 2, 10, 0, tzinfo=UTC)


async def test_naive_sent_at_is_refused(client):
    response = await client.post(
        "/api/conversations/s-4/messages", json=message_body(sent_at="2030-01-01T10:00:00")
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    "override",
    [
        {"text": "", "payload": None},
        {"text": "x" * 20_001},
        {"event_id": "e" * 65},
        {"intent_confidence": 1.5},
        {"channel": "carrier-pigeon"},
        {"author": "robot"},
        {"text": "nul \x00 byte"},
        {"sent_at": "9999-12-31T23:59:59-05:00"},
    ],
)
async def test_invalid_message_is_refused_with_422(client, session, override):
    response = await client.post("/api/conversations/s-5/messages", json=message_body(**override))

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert await _messages(session, "s-5") == []


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_in_the_payload_are_refused(client, number):
    raw = '{"author": "bot", "channel": "web", "payload": {"score": NUMBER}}'.replace("NUMBER", number)

    response = await client.post(
        "/api/conversations/s-5/messages", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422


async def test_payload_alone_is_a_valid_message(client):
    response = await client.post(
        "/api/conversations/s-6/messages",
        json=message_body(
            author="bot", text="", payload={"buttons": [{"title": "Yes", "payload": "/affirm"}]}
        ),
    )

    assert response.status_code == 201
    assert response.json()["payload"]["buttons"][0]["title"] == "Yes"


async def test_sender_ids_with_spaces_unicode_and_symbols_work(client):
    sender_id = "whatsapp:+49 151 ü@#?"
    path = f"/api/conversations/{quote(sender_id, safe='')}"
    assert (await client.post(f"{path}/messages", json=message_body())).status_code == 201
    response = await client.get(path)

    assert response.status_code == 200
    assert response.json()["sender_id"] == sender_id


async def test_agent_reply_is_stored_with_the_agent_from_the_token(agent_client, agent, session):
    conversation = await make_conversation(session)

    response = await agent_client.post(
        f"/api/conversations/{conversation.sender_id}/messages",
        json=message_body(author="agent", text="Let me check.", agent_id=agent.id + 999),
    )

    assert response.status_code == 201
    assert response.json()["agent_id"] == agent.id


@pytest.mark.parametrize("author", ["customer", "bot", "system"])
async def test_agents_cannot_post_as_customer_bot_or_system(agent_client, author):
    response = await agent_client.post("/api/conversations/s-7/messages", json=message_body(author=author))

    assert response.status_code == 403
    assert response.json()["error"] == "author_not_allowed"


async def test_service_cannot_post_agent_messages_or_internal_notes(client):
    as_agent = await client.post("/api/conversations/s-8/messages", json=message_body(author="agent"))
    note = await client.post("/api/conversations/s-8/messages", json=message_body(is_internal=True))

    assert as_agent.status_code == 403
    assert note.status_code == 403
    assert note.json()["error"] == "internal_note_not_allowed"


async def test_service_cannot_read_an_internal_note_through_a_colliding_event_id(client, agent_client):
    await agent_client.post(
        "/api/conversations/s-13/messages",
        json=message_body(author="agent", text="secret", is_internal=True, event_id="e-1"),
    )

    response = await client.post("/api/conversations/s-13/messages", json=message_body(event_id="e-1"))

    assert response.status_code == 409
    assert "secret" not in response.text


async def test_first_public_agent_reply_sets_first_response_at_once(agent_client, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    conversation = await session.get(Conversation, handoff.conversation_id)
    path = f"/api/conversations/{conversation.sender_id}/messages"

    await agent_client.post(path, json=message_body(author="agent", text="note", is_internal=True))
    await session.refresh(handoff)
    assert handoff.first_response_at is None

    first = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    await agent_client.post(path, json=message_body(author="agent", sent_at=first.isoformat()))
    await agent_client.post(
        path, json=message_body(author="agent", sent_at=(first + timedelta(minutes=5)).isoformat())
    )
    await session.refresh(handoff)
    assert handoff.first_response_at == first


async def test_customer_messages_do_not_count_as_a_first_response(client, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    conversation = await session.get(Conversation, handoff.conversation_id)

    await client.post(f"/api/conversations/{conversation.sender_id}/messages", json=message_body())

    await session.refresh(handoff)
    assert handoff.first_response_at is None


async def test_batch_stores_messages_in_the_given_order_and_counts_duplicates(client, session):
    await client.post("/api/conversations/s-9/messages", json=message_body(event_id="e-2"))
    batch = [message_body(event_id=f"e-{n}", text=f"message {n}") for n in (1, 2, 3, 3)]
    batch.append(message_body(author="bot", text="no event id"))

    response = await client.post("/api/conversations/s-9/messages/batch", json=batch)

    assert response.status_code == 200
    assert response.json() == {"stored": 3, "duplicates": 2}
    texts = [m.text for m in await _messages(session, "s-9")]
    assert texts == ["where is my order?", "message 1", "message 3", "no event id"]
    assert (await _conversation(session, "s-9")).message_count == 4


async def test_batch_is_all_or_nothing(client, session):
    valid = message_body(event_id="e-1")

    invalid = await client.post("/api/conversations/s-10/messages/batch", json=[valid, message_body(text="")])
    forbidden = await client.post(
        "/api/conversations/s-10/messages/batch", json=[valid, message_body(author="agent")]
    )

    assert invalid.status_code == 422
    assert forbidden.status_code == 403
    count = await session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.sender_id == "s-10")
    )
    assert count == 0


async def test_batch_size_is_limited_and_agents_may_not_use_it(client, agent_client):
    empty = await client.post("/api/conversations/s-11/messages/batch", json=[])
    too_many = await client.post("/api/conversations/s-11/messages/batch", json=[message_body()] * 501)
    by_agent = await agent_client.post(
        "/api/conversations/s-11/messages/batch", json=[message_body(author="agent")]
    )

    assert empty.status_code == 422
    assert too_many.status_code == 422
    assert by_agent.status_code == 403


async def test_anonymous_callers_cannot_post(anonymous_client):
    response = await anonymous_client.post("/api/conversations/s-12/messages", json=message_body())

    assert response.status_code == 401
