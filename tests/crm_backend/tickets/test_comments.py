"""Replies and internal notes: POST /api/tickets/{number}/comments."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_backend.core.types import utcnow
from crm_backend.tickets.models import TicketComment, TicketStatus
from tests.crm_backend.tickets.factories import make_ticket
from tests.crm_backend.tickets.helpers import audit_entries


async def test_agent_reply_is_authored_by_the_agent(agent_client, session, agent):
    ticket = await make_ticket(session)

    response = await agent_client.post(f"/api/tickets/{ticket.number}/comments", json={"body": "On it."})

    assert response.status_code == 201
    body = response.json()
    assert body["author_kind"] == "agent"
    assert body["author_agent_id"] == agent.id
    assert body["is_public"] is True
    assert body["body"] == "On it."


async def test_service_comment_is_authored_by_the_service_unless_relaying_the_customer(client, session):
    ticket = await make_ticket(session)

    note = await client.post(f"/api/tickets/{ticket.number}/comments", json={"body": "Bot summary"})
    relayed = await client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Still waiting!", "from_customer": True}
    )
    shown = await client.get(f"/api/tickets/{ticket.number}")

    assert note.json()["author_kind"] == "service"
    assert relayed.json()["author_kind"] == "customer"
    assert [c["author_kind"] for c in shown.json()["comments"]] == ["service", "customer"]


async def test_agent_cannot_speak_as_the_customer(agent_client, session):
    ticket = await make_ticket(session)

    response = await agent_client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "I'm the customer", "from_customer": True}
    )

    assert response.status_code == 403
    assert response.json()["error"] == "from_customer_forbidden"
    assert await session.scalar(select(func.count()).select_from(TicketComment)) == 0


@pytest.mark.parametrize("status", [TicketStatus.PENDING, TicketStatus.SOLVED])
async def test_customer_reply_reopens_a_waiting_ticket(client, session, status):
    ticket = await make_ticket(
        session, status=status, solved_at=utcnow() if status is TicketStatus.SOLVED else None
    )

    await client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Still broken", "from_customer": True}
    )
    shown = await client.get(f"/api/tickets/{ticket.number}")

    assert shown.json()["status"] == "open"
    assert shown.json()["solved_at"] is None
    [entry] = await audit_entries(session, ticket.number, "ticket.comment")
    assert entry.changes["status"] == {"from": status.value, "to": "open"}


@pytest.mark.parametrize("status", [TicketStatus.NEW, TicketStatus.OPEN])
async def test_customer_reply_leaves_an_active_ticket_as_it_is(client, session, status):
    ticket = await make_ticket(session, status=status)

    await client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Any news?", "from_customer": True}
    )
    shown = await client.get(f"/api/tickets/{ticket.number}")

    assert shown.json()["status"] == status.value


async def test_team_reply_does_not_reopen_a_pending_ticket(agent_client, session):
    ticket = await make_ticket(session, status=TicketStatus.PENDING)

    await agent_client.post(f"/api/tickets/{ticket.number}/comments", json={"body": "Reminder sent"})
    shown = await agent_client.get(f"/api/tickets/{ticket.number}")

    assert shown.json()["status"] == "pending"


async def test_closed_ticket_refuses_comments(client, session):
    ticket = await make_ticket(session, status=TicketStatus.CLOSED)

    response = await client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Hello?", "from_customer": True}
    )

    assert response.status_code == 409
    assert response.json()["error"] == "ticket_closed"


@pytest.mark.parametrize(
    "payload",
    [
        {"body": ""},
        {"body": "   "},
        {"body": "x" * 20_001},
        {"body": "nul \x00"},
        {"body": "Hi", "from_customer": True, "is_public": False},
    ],
)
async def test_invalid_comment_is_422(client, session, payload):
    ticket = await make_ticket(session)
    response = await client.post(f"/api/tickets/{ticket.number}/comments", json=payload)
    assert response.status_code == 422


async def test_retried_comment_is_stored_once(client, session):
    ticket = await make_ticket(session)
    headers = {"Idempotency-Key": "comment-1"}
    payload = {"body": "Thanks!", "from_customer": True}

    first = await client.post(f"/api/tickets/{ticket.number}/comments", json=payload, headers=headers)
    retry = await client.post(f"/api/tickets/{ticket.number.lower()}/comments", json=payload, headers=headers)
    reused = await client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Other"}, headers=headers
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert reused.status_code == 409
    assert reused.json()["error"] == "idempotency_key_reused"
    assert await session.scalar(select(func.count()).select_from(TicketComment)) == 1


async def test_comment_is_audited_without_its_body(agent_client, session, agent):
    ticket = await make_ticket(session)

    response = await agent_client.post(
        f"/api/tickets/{ticket.number}/comments", json={"body": "Secret internal note", "is_public": False}
    )

    [entry] = await audit_entries(session, ticket.number, "ticket.comment")
    assert entry.actor_id == str(agent.id)
    assert entry.changes == {"comment_id": response.json()["id"], "is_public": False, "author": "agent"}
    assert "Secret internal note" not in str(entry.changes)
