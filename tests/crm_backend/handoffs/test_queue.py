"""Opening handoffs, the queue and listing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crm_backend.agents.repository import count_online
from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import Conversation
from crm_backend.core.types import utcnow
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from tests.crm_backend.conversations.factories import make_conversation
from tests.crm_backend.factories import make_customer
from tests.crm_backend.handoffs.factories import make_handoff


def handoff_body(sender_id: str, **overrides):
    body = {
        "sender_id": sender_id,
        "reason": "customer_request",
        "channel": "web",
        "summary": {"intent": "x"},
    }
    body.update(overrides)
    return body


async def test_handoff_creates_the_conversation_hands_it_off_and_links_the_customer(client, session):
    customer = await make_customer(session)

    response = await client.post(
        "/api/handoffs",
        json=handoff_body(
            "new-sender", channel="whatsapp", customer_id=customer.id, summary={"order": "ORD-1"}
        ),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["sender_id"] == "new-sender"
    assert body["channel"] == "whatsapp"
    assert body["customer_id"] == customer.id
    assert body["status"] == "waiting"
    assert body["summary"] == {"order": "ORD-1"}
    assert body["assignee_id"] is None
    assert body["queue_position"] >= 1
    assert body["agents_online"] == await count_online(session)
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.sender_id == "new-sender")
        .execution_options(populate_existing=True)
    )
    assert conversation.status == "handed_off"
    assert conversation.customer_id == customer.id
    audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "handoff.create"))
    assert audit.entity_id == str(body["id"])


async def test_an_open_handoff_is_returned_instead_of_a_duplicate(client, session):
    first = await client.post("/api/handoffs", json=handoff_body("dup"))
    again = await client.post("/api/handoffs", json=handoff_body("dup", reason="complaint"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reason"] == "customer_request"
    count = await session.scalar(
        select(func.count()).select_from(Handoff).join(Conversation).where(Conversation.sender_id == "dup")
    )
    assert count == 1


async def test_an_assigned_handoff_also_counts_as_open(client, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    conversation = await session.get(Conversation, handoff.conversation_id)

    response = await client.post("/api/handoffs", json=handoff_body(conversation.sender_id))

    assert response.status_code == 200
    assert response.json()["id"] == handoff.id
    assert response.json()["queue_position"] is None


async def test_a_closed_handoff_does_not_block_a_new_one(client, session):
    closed = await make_handoff(session, status=HandoffStatus.RESOLVED)
    conversation = await session.get(Conversation, closed.conversation_id)

    response = await client.post("/api/handoffs", json=handoff_body(conversation.sender_id))

    assert response.status_code == 201
    assert response.json()["id"] != closed.id


async def test_existing_customer_link_is_kept(client, session):
    linked, other = await make_customer(session), await make_customer(session)
    conversation = await make_conversation(session, customer_id=linked.id)

    response = await client.post(
        "/api/handoffs", json=handoff_body(conversation.sender_id, customer_id=other.id)
    )

    assert response.json()["customer_id"] == linked.id


async def test_idempotency_key_replays_the_first_answer(client, session):
    headers = {"Idempotency-Key": "handoff-retry-1"}
    first = await client.post("/api/handoffs", json=handoff_body("idem"), headers=headers)
    retry = await client.post("/api/handoffs", json=handoff_body("idem"), headers=headers)
    reused = await client.post("/api/handoffs", json=handoff_body("other"), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert reused.status_code == 409


async def test_invalid_handoffs_are_refused(client, agent_client):
    unknown_customer = await client.post("/api/handoffs", json=handoff_body("x", customer_id=2_000_000_000))
    too_big_summary = await client.post(
        "/api/handoffs", json=handoff_body("x", summary={f"k{n}": n for n in range(51)})
    )
    slash = await client.post("/api/handoffs", json=handoff_body("a/b"))
    by_agent = await agent_client.post("/api/handoffs", json=handoff_body("x"))

    assert unknown_customer.status_code == 404
    assert unknown_customer.json()["error"] == "customer_not_found"
    assert too_big_summary.status_code == 422
    assert slash.status_code == 422
    assert by_agent.status_code == 403


async def test_queue_positions_follow_request_time(client, session):
    now = utcnow()
    later = await make_handoff(session, requested_at=now - timedelta(minutes=1))
    earlier = await make_handoff(session, requested_at=now - timedelta(minutes=5))

    first = (await client.get(f"/api/handoffs/{earlier.id}")).json()
    second = (await client.get(f"/api/handoffs/{later.id}")).json()

    assert second["queue_position"] == first["queue_position"] + 1
    assert first["wait_seconds"] >= 300


async def test_list_puts_the_queue_first_oldest_first_then_the_rest_newest_first(client, session, agent):
    customer = await make_customer(session)
    now = utcnow()

    async def handoff(minutes_ago: int, **fields) -> Handoff:
        conversation = await make_conversation(session, customer_id=customer.id)
        return await make_handoff(
            session, conversation=conversation, requested_at=now - timedelta(minutes=minutes_ago), **fields
        )

    old_resolved = await handoff(50, status=HandoffStatus.RESOLVED, assignee_id=agent.id)
    waiting_new = await handoff(5)
    new_assigned = await handoff(10, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    waiting_old = await handoff(30, reason=HandoffReason.COMPLAINT)

    response = await client.get("/api/handoffs", params={"customer_id": customer.id})

    items = response.json()["items"]
    assert [i["id"] for i in items] == [waiting_old.id, waiting_new.id, new_assigned.id, old_resolved.id]
    assert all(i["sender_id"] for i in items)
    assert items[0]["wait_seconds"] >= 30 * 60
    assert items[2]["wait_seconds"] == 0  # claimed the moment it was requested (factory default)
    assert items[3]["status"] == "resolved"


async def test_list_filters_and_paginates(client, session, agent, admin):
    customer = await make_customer(session)
    conversations = [await make_conversation(session, customer_id=customer.id) for _ in range(3)]
    mine = await make_handoff(
        session, conversation=conversations[0], status=HandoffStatus.ASSIGNED, assignee_id=agent.id
    )
    theirs = await make_handoff(
        session, conversation=conversations[1], status=HandoffStatus.ASSIGNED, assignee_id=admin.id
    )
    complaint = await make_handoff(session, conversation=conversations[2], reason=HandoffReason.COMPLAINT)

    async def ids(**params):
        response = await client.get("/api/handoffs", params={"customer_id": customer.id, **params})
        return [i["id"] for i in response.json()["items"]]

    assert await ids(assignee_id=agent.id) == [mine.id]
    assert await ids(status="waiting") == [complaint.id]
    assert await ids(reason="complaint") == [complaint.id]
    assert await ids(sender_id=conversations[1].sender_id) == [theirs.id]
    page = (
        await client.get("/api/handoffs", params={"customer_id": customer.id, "limit": 2, "offset": 2})
    ).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1


async def test_unknown_handoff_is_404(client, agent_client):
    assert (await client.get("/api/handoffs/2000000000")).json()["error"] == "handoff_not_found"
    for action in ("claim", "release", "resolve"):
        response = await agent_client.post(f"/api/handoffs/2000000000/{action}")
        assert response.status_code == 404
    assert (await client.post("/api/handoffs/2000000000/abandon")).status_code == 404
    assert (await client.get("/api/handoffs/99999999999")).status_code == 422
