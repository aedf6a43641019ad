"""Listing tickets: GET /api/tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_backend.core.types import utcnow
from crm_backend.tickets.models import TicketPriority, TicketStatus
from tests.crm_backend.factories import make_customer, make_order
from tests.crm_backend.tickets.factories import make_conversation, make_ticket


def numbers(response) -> list[str]:
    return [item["number"] for item in response.json()["items"]]


async def test_tickets_are_listed_newest_first_and_paginated_with_total(client, session):
    customer = await make_customer(session)
    start = utcnow() - timedelta(hours=5)
    tickets = [
        await make_ticket(session, customer_id=customer.id, created_at=start + timedelta(hours=i))
        for i in range(5)
    ]
    newest_first = [t.number for t in reversed(tickets)]

    first = await client.get("/api/tickets", params={"customer_id": customer.id, "limit": 2})
    third = await client.get("/api/tickets", params={"customer_id": customer.id, "limit": 2, "offset": 4})

    assert first.status_code == 200
    assert first.json()["total"] == third.json()["total"] == 5
    assert numbers(first) == newest_first[:2]
    assert numbers(third) == newest_first[4:]
    assert "comments" not in first.json()["items"][0]


async def test_list_items_show_their_links(client, session):
    order = await make_order(session)
    conversation = await make_conversation(session)
    await make_ticket(
        session, customer_id=order.customer_id, order_id=order.id, conversation_id=conversation.id
    )

    response = await client.get("/api/tickets", params={"customer_id": order.customer_id})

    [item] = response.json()["items"]
    assert item["order_number"] == order.number
    assert item["conversation_sender_id"] == conversation.sender_id


async def test_status_filter_takes_one_or_several_values(agent_client, session):
    customer = await make_customer(session)
    by_status = {s: await make_ticket(session, customer_id=customer.id, status=s) for s in TicketStatus}
    scope = {"customer_id": customer.id}

    one = await agent_client.get("/api/tickets", params={**scope, "status": "pending"})
    several = await agent_client.get("/api/tickets", params={**scope, "status": ["new", "solved"]})

    assert numbers(one) == [by_status[TicketStatus.PENDING].number]
    assert set(numbers(several)) == {
        by_status[TicketStatus.NEW].number,
        by_status[TicketStatus.SOLVED].number,
    }


async def test_priority_category_and_assignee_filters(agent_client, session, agent):
    customer = await make_customer(session)
    urgent = await make_ticket(session, customer_id=customer.id, priority=TicketPriority.URGENT)
    refund = await make_ticket(session, customer_id=customer.id, category="refund")
    mine = await make_ticket(session, customer_id=customer.id, assignee_id=agent.id)
    scope = {"customer_id": customer.id}

    by_priority = await agent_client.get("/api/tickets", params={**scope, "priority": "urgent"})
    by_category = await agent_client.get("/api/tickets", params={**scope, "category": "refund"})
    by_assignee = await agent_client.get("/api/tickets", params={"assignee_id": agent.id})

    assert numbers(by_priority) == [urgent.number]
    assert numbers(by_category) == [refund.number]
    assert numbers(by_assignee) == [mine.number]


async def test_overdue_filter_ignores_solved_and_closed_tickets(client, session):
    customer = await make_customer(session)
    past = utcnow() - timedelta(hours=1)
    late = await make_ticket(session, customer_id=customer.id, sla_due_at=past)
    await make_ticket(session, customer_id=customer.id, sla_due_at=past, status=TicketStatus.SOLVED)
    await make_ticket(session, customer_id=customer.id, sla_due_at=past, status=TicketStatus.CLOSED)
    on_time = await make_ticket(session, customer_id=customer.id)

    overdue = await client.get("/api/tickets", params={"customer_id": customer.id, "overdue": "true"})
    not_overdue = await client.get("/api/tickets", params={"customer_id": customer.id, "overdue": "false"})

    assert numbers(overdue) == [late.number]
    assert overdue.json()["items"][0]["overdue"] is True
    assert late.number not in numbers(not_overdue)
    assert on_time.number in numbers(not_overdue)
    assert not_overdue.json()["total"] == 3


async def test_q_matches_subject_substrings_ignoring_case(client, session):
    customer = await make_customer(session)
    match = await make_ticket(session, customer_id=customer.id, subject="Refund for the BLUE jacket")
    await make_ticket(session, customer_id=customer.id, subject="Red scarf")
    await make_ticket(session, customer_id=customer.id, subject="50% discount missing")

    found = await client.get("/api/tickets", params={"customer_id": customer.id, "q": "blue jack"})
    wildcard = await client.get("/api/tickets", params={"customer_id": customer.id, "q": "%"})

    assert numbers(found) == [match.number]
    assert len(numbers(wildcard)) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"priority": "asap"},
        {"category": "gossip"},
        {"assignee_id": 2**31},
        {"customer_id": 0},
        {"overdue": "maybe"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
    ],
)
async def test_invalid_filters_are_422(client, params):
    response = await client.get("/api/tickets", params=params)
    assert response.status_code == 422


async def test_anonymous_callers_cannot_list_tickets(anonymous_client):
    assert (await anonymous_client.get("/api/tickets")).status_code == 401
