"""The customer's view of a ticket: POST /api/tickets/lookup."""

from __future__ import annotations

import pytest

from crm_backend.customers.models import CustomerEmail
from crm_backend.tickets.models import TicketStatus
from tests.crm_backend.factories import make_customer
from tests.crm_backend.tickets.factories import add_comment, make_ticket


async def test_customer_email_reveals_status_and_public_replies_only(client, session):
    customer = await make_customer(session)
    ticket = await make_ticket(session, customer_id=customer.id, status=TicketStatus.PENDING)
    await add_comment(session, ticket, "We shipped a replacement.", is_public=True)
    await add_comment(session, ticket, "Customer was rude on the phone.", is_public=False)

    response = await client.post(
        "/api/tickets/lookup", json={"number": ticket.number.lower(), "email": str(customer.email).upper()}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == ticket.number
    assert body["status"] == "pending"
    assert body["subject"] == ticket.subject
    assert body["category"] == "shipping"
    assert [c["body"] for c in body["comments"]] == ["We shipped a replacement."]
    assert "rude" not in response.text
    assert "author_agent_id" not in body["comments"][0]


async def test_any_of_the_customers_emails_proves_ownership(client, session):
    customer = await make_customer(session)
    session.add(CustomerEmail(customer_id=customer.id, email="second.address@example.com"))
    ticket = await make_ticket(session, customer_id=customer.id)

    response = await client.post(
        "/api/tickets/lookup", json={"number": ticket.number, "email": "Second.Address@example.com"}
    )

    assert response.status_code == 200


async def test_verified_customer_id_proves_ownership(client, session):
    customer = await make_customer(session)
    ticket = await make_ticket(session, customer_id=customer.id)

    response = await client.post(
        "/api/tickets/lookup", json={"number": ticket.number, "customer_id": customer.id}
    )

    assert response.status_code == 200


async def test_wrong_owner_gets_the_same_answer_as_an_unknown_number(client, session):
    owner = await make_customer(session)
    stranger = await make_customer(session)
    ticket = await make_ticket(session, customer_id=owner.id)
    orphan = await make_ticket(session, customer_id=None)

    answers = [
        await client.post("/api/tickets/lookup", json=payload)
        for payload in (
            {"number": ticket.number, "email": stranger.email},
            {"number": ticket.number, "customer_id": stranger.id},
            {"number": orphan.number, "email": stranger.email},
            {"number": "TCK-999999", "email": owner.email},
            {"number": "garbage", "email": owner.email},
        )
    ]

    assert {a.status_code for a in answers} == {404}
    assert all(a.json() == answers[-1].json() for a in answers)
    assert answers[0].json()["error"] == "ticket_not_found"


@pytest.mark.parametrize(
    "payload",
    [
        {"number": "TCK-000001"},
        {"number": "TCK-000001", "email": "a@example.com", "customer_id": 1},
        {"number": "TCK-000001", "email": "not an email"},
        {"number": "", "email": "a@example.com"},
    ],
)
async def test_lookup_needs_exactly_one_proof(client, payload):
    response = await client.post("/api/tickets/lookup", json=payload)
    assert response.status_code == 422


async def test_lookup_is_for_the_service_token_only(agent_client, anonymous_client):
    payload = {"number": "TCK-000001", "email": "a@example.com"}

    assert (await agent_client.post("/api/tickets/lookup", json=payload)).status_code == 403
    assert (await anonymous_client.post("/api/tickets/lookup", json=payload)).status_code == 401
