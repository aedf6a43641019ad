"""Opening tickets: POST /api/tickets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm_backend.tickets.models import Ticket
from tests.crm_backend.factories import make_customer, make_order
from tests.crm_backend.tickets.factories import make_conversation
from tests.crm_backend.tickets.helpers import audit_entries, moment


async def test_new_ticket_gets_the_next_number_and_starts_new(client):
    first = await client.post("/api/tickets", json={"subject": "Where is my parcel?"})
    second = await client.post("/api/tickets", json={"subject": "Wrong size"})

    assert first.status_code == second.status_code == 201
    body = first.json()
    assert re.fullmatch(r"TCK-\d{6}", body["number"])
    assert int(second.json()["number"][4:]) == int(body["number"][4:]) + 1
    assert body["status"] == "new"
    assert body["category"] == "other"
    assert body["priority"] == "normal"
    assert body["channel"] == "api"
    assert body["overdue"] is False
    assert body["comments"] == []
    assert body["solved_at"] is None
    assert body["closed_at"] is None


@pytest.mark.parametrize(("priority", "hours"), [("urgent", 4), ("high", 8), ("normal", 24), ("low", 72)])
async def test_sla_due_time_follows_priority(client, priority, hours):
    response = await client.post("/api/tickets", json={"subject": "Help", "priority": priority})

    body = response.json()
    assert response.status_code == 201
    assert moment(body, "sla_due_at") - moment(body, "created_at") == timedelta(hours=hours)


async def test_agents_can_open_tickets_too(agent_client):
    response = await agent_client.post("/api/tickets", json={"subject": "Called about a refund"})
    assert response.status_code == 201


async def test_ticket_links_customer_order_and_conversation(client, session):
    customer = await make_customer(session)
    order = await make_order(session, customer=customer)
    conversation = await make_conversation(session)
    digits = order.number.removeprefix("ORD-")

    response = await client.post(
        "/api/tickets",
        json={
            "subject": "Damaged item",
            "category": "return",
            "channel": "web",
            "customer_id": customer.id,
            "order_number": f"ord {digits}",
            "conversation_sender_id": conversation.sender_id,
        },
    )

    body = response.json()
    assert response.status_code == 201
    assert body["customer_id"] == customer.id
    assert body["order_number"] == order.number
    assert body["conversation_sender_id"] == conversation.sender_id
    assert body["category"] == "return"
    assert body["channel"] == "web"


async def test_ticket_about_an_order_belongs_to_the_orders_customer(client, session):
    order = await make_order(session)

    response = await client.post("/api/tickets", json={"subject": "Late", "order_number": order.number})

    assert response.json()["customer_id"] == order.customer_id


async def test_order_of_another_customer_is_refused(client, session):
    order = await make_order(session)
    someone_else = await make_customer(session)

    response = await client.post(
        "/api/tickets",
        json={"subject": "Late", "order_number": order.number, "customer_id": someone_else.id},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "order_not_owned"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("customer_id", 2_000_000_000, "customer_not_found"),
        ("order_number", "ORD-999999", "order_not_found"),
        ("order_number", "not an order", "order_not_found"),
        ("conversation_sender_id", "no-such-sender", "conversation_not_found"),
    ],
)
async def test_unknown_links_are_404(client, session, field, value, error):
    response = await client.post("/api/tickets", json={"subject": "Help", field: value})

    assert response.status_code == 404
    assert response.json()["error"] == error
    assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"subject": ""},
        {"subject": "   "},
        {"subject": "x" * 201},
        {"subject": "Help", "description": "x" * 20_001},
        {"subject": "Help", "category": "gossip"},
        {"subject": "Help", "priority": "asap"},
        {"subject": "Help", "channel": "pigeon"},
        {"subject": "Help", "customer_id": 2**31},
        {"subject": "nul \x00 byte"},
        {"subject": "Help", "conversation_sender_id": "a\x00b"},
    ],
)
async def test_invalid_payload_is_422(client, payload):
    response = await client.post("/api/tickets", json=payload)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_retry_with_the_same_key_returns_the_same_ticket(client, session):
    headers = {"Idempotency-Key": "create-ticket-1"}
    payload = {"subject": "Retry me", "priority": "high"}

    first = await client.post("/api/tickets", json=payload, headers=headers)
    retry = await client.post("/api/tickets", json=payload, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    count = select(func.count()).select_from(Ticket).where(Ticket.subject == "Retry me")
    assert await session.scalar(count) == 1


async def test_same_key_with_a_different_body_is_refused(client, session):
    headers = {"Idempotency-Key": "create-ticket-2"}

    first = await client.post("/api/tickets", json={"subject": "One"}, headers=headers)
    other = await client.post("/api/tickets", json={"subject": "Two"}, headers=headers)

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_failed_create_does_not_burn_the_idempotency_key(client, session):
    headers = {"Idempotency-Key": "create-ticket-3"}
    payload = {"subject": "Help", "customer_id": 2_000_000_000}

    first = await client.post("/api/tickets", json=payload, headers=headers)
    customer = await make_customer(session)
    fixed = await client.post(
        "/api/tickets", json={"subject": "Help", "customer_id": customer.id}, headers=headers
    )

    assert first.status_code == 404
    assert fixed.status_code == 201


async def test_creation_is_audited(client, session):
    customer = await make_customer(session)

    response = await client.post(
        "/api/tickets", json={"subject": "Help", "priority": "urgent", "customer_id": customer.id}
    )

    [entry] = await audit_entries(session, response.json()["number"], "ticket.create")
    assert entry.actor_kind == "service"
    assert entry.changes["priority"] == "urgent"
    assert entry.changes["customer_id"] == customer.id


async def test_anonymous_callers_cannot_open_tickets(anonymous_client):
    response = await anonymous_client.post("/api/tickets", json={"subject": "Help"})
    assert response.status_code == 401
