"""Reading conversations and messages, internal notes, and linking a customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import ConversationStatus, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.core.types import utcnow
from tests.crm_backend.conversations.factories import make_conversation, make_message
from tests.crm_backend.factories import make_customer


async def test_conversation_shows_internal_notes_to_agents_but_never_to_the_service(
    client, agent_client, session, agent
):
    conversation = await make_conversation(session)
    await make_message(session, conversation, text="hi")
    await make_message(
        session, conversation, author=MessageAuthor.AGENT, agent_id=agent.id, text="VIP", is_internal=True
    )
    path = f"/api/conversations/{conversation.sender_id}"

    for_service = await client.get(path)
    for_agent = await agent_client.get(path)
    service_page = await client.get(f"{path}/messages")
    agent_page = await agent_client.get(f"{path}/messages")

    assert [m["text"] for m in for_service.json()["messages"]] == ["hi"]
    assert [m["text"] for m in for_agent.json()["messages"]] == ["hi", "VIP"]
    assert [m["text"] for m in service_page.json()["items"]] == ["hi"]
    assert service_page.json()["total"] == 1
    assert [m["text"] for m in agent_page.json()["items"]] == ["hi", "VIP"]


async def test_conversation_carries_the_latest_200_messages_oldest_first(client, session):
    conversation = await make_conversation(session)
    for n in range(205):
        await make_message(session, conversation, text=f"m{n}")

    response = await client.get(f"/api/conversations/{conversation.sender_id}")

    texts = [m["text"] for m in response.json()["messages"]]
    assert len(texts) == 200
    assert texts[0] == "m5"
    assert texts[-1] == "m204"


async def test_messages_are_paginated_oldest_first_and_filtered_by_author(client, session):
    conversation = await make_conversation(session)
    for n in range(5):
        author = MessageAuthor.BOT if n % 2 else MessageAuthor.CUSTOMER
        await make_message(session, conversation, author=author, text=f"m{n}")
    path = f"/api/conversations/{conversation.sender_id}/messages"

    second_page = await client.get(path, params={"limit": 2, "offset": 2})
    bot_only = await client.get(path, params={"author": "bot"})

    assert [m["text"] for m in second_page.json()["items"]] == ["m2", "m3"]
    assert second_page.json()["total"] == 5
    assert [m["text"] for m in bot_only.json()["items"]] == ["m1", "m3"]


async def test_list_is_newest_activity_first_and_filters(client, session):
    customer = await make_customer(session)
    now = utcnow()
    old = await make_conversation(session, customer_id=customer.id, last_message_at=now - timedelta(days=3))
    recent = await make_conversation(session, customer_id=customer.id, channel=Channel.TELEGRAM)
    handed = await make_conversation(
        session,
        customer_id=customer.id,
        status=ConversationStatus.HANDED_OFF,
        last_message_at=now - timedelta(days=1),
    )

    everything = await client.get("/api/conversations", params={"customer_id": customer.id})
    telegram = await client.get(
        "/api/conversations", params={"customer_id": customer.id, "channel": "telegram"}
    )
    handed_off = await client.get(
        "/api/conversations", params={"customer_id": customer.id, "status": "handed_off"}
    )
    since = await client.get(
        "/api/conversations",
        params={"customer_id": customer.id, "updated_since": (now - timedelta(days=2)).isoformat()},
    )
    first_page = await client.get("/api/conversations", params={"customer_id": customer.id, "limit": 1})

    def senders(response):
        return [c["sender_id"] for c in response.json()["items"]]

    assert senders(everything) == [recent.sender_id, handed.sender_id, old.sender_id]
    assert senders(telegram) == [recent.sender_id]
    assert senders(handed_off) == [handed.sender_id]
    assert senders(since) == [recent.sender_id, handed.sender_id]
    assert senders(first_page) == [recent.sender_id]
    assert first_page.json()["total"] == 3
    assert set(everything.json()["items"][0]) == {
        "sender_id", "channel", "customer_id", "status", "started_at", "last_message_at", "message_count",
    }  # fmt: skip


@pytest.mark.parametrize(
    "updated_since", ["2030-01-01T00:00:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "soon"]
)
async def test_naive_or_unrepresentable_updated_since_is_refused(client, updated_since):
    response = await client.get("/api/conversations", params={"updated_since": updated_since})

    assert response.status_code == 422


async def test_unknown_conversation_is_404(client):
    for path in ("/api/conversations/nobody", "/api/conversations/nobody/messages"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "conversation_not_found"


async def test_link_customer_sets_it_and_is_audited(agent_client, session, agent):
    conversation = await make_conversation(session)
    customer = await make_customer(session)

    response = await agent_client.put(
        f"/api/conversations/{conversation.sender_id}/customer", json={"customer_id": customer.id}
    )

    assert response.status_code == 200
    assert response.json()["customer_id"] == customer.id
    entry = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "conversation.link_customer", AuditEntry.entity_id == str(conversation.id)
        )
    )
    assert entry is not None
    assert entry.actor_id == str(agent.id)
    assert entry.changes == {"customer_id": {"from": None, "to": customer.id}}


async def test_link_unknown_customer_or_conversation_is_404(client, session):
    conversation = await make_conversation(session)
    customer = await make_customer(session)

    unknown_customer = await client.put(
        f"/api/conversations/{conversation.sender_id}/customer", json={"customer_id": 2_000_000_000}
    )
    unknown_conversation = await client.put(
        "/api/conversations/nobody/customer", json={"customer_id": customer.id}
    )
    out_of_range = await client.put(
        f"/api/conversations/{conversation.sender_id}/customer", json={"customer_id": 2**40}
    )

    assert unknown_customer.status_code == 404
    assert unknown_customer.json()["error"] == "customer_not_found"
    assert unknown_conversation.status_code == 404
    assert unknown_conversation.json()["error"] == "conversation_not_found"
    assert out_of_range.status_code == 422


async def test_overlong_sender_id_is_refused(client):
    response = await client.get("/api/conversations/" + "x" * 256)

    assert response.status_code == 422
