"""Reading and changing tickets: GET and PATCH /api/tickets/{number}."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_backend.core.types import utcnow
from crm_backend.tickets.models import TicketPriority, TicketStatus
from tests.crm_backend.factories import make_agent
from tests.crm_backend.tickets.factories import add_comment, make_ticket
from tests.crm_backend.tickets.helpers import audit_entries, moment

S = TicketStatus
ALLOWED = {
    S.NEW: {S.OPEN, S.PENDING, S.SOLVED, S.CLOSED},
    S.OPEN: {S.PENDING, S.SOLVED, S.CLOSED},
    S.PENDING: {S.OPEN, S.SOLVED, S.CLOSED},
    S.SOLVED: {S.OPEN, S.CLOSED},
    S.CLOSED: set(),
}
MOVES = [(start, to) for start in S for to in S if start is not to]


async def test_ticket_is_found_by_number_in_any_case_with_its_comments(client, session):
    ticket = await make_ticket(session)
    await add_comment(session, ticket, "Checked with the carrier.", is_public=False)

    response = await client.get(f"/api/tickets/{ticket.number.lower()}")

    body = response.json()
    assert response.status_code == 200
    assert body["number"] == ticket.number
    assert [c["body"] for c in body["comments"]] == ["Checked with the carrier."]
    assert body["comments"][0]["is_public"] is False


@pytest.mark.parametrize("number", ["TCK-999999", "nonsense", "TCK-" + "9" * 40])
async def test_unknown_ticket_is_404(client, number):
    read = await client.get(f"/api/tickets/{number}")
    patch = await client.patch(f"/api/tickets/{number}", json={"status": "open"})
    comment = await client.post(f"/api/tickets/{number}/comments", json={"body": "Hi"})

    assert read.status_code == patch.status_code == comment.status_code == 404
    assert read.json()["error"] == patch.json()["error"] == comment.json()["error"] == "ticket_not_found"


async def test_a_nul_in_the_ticket_number_is_refused(client):
    assert (await client.get("/api/tickets/%00")).status_code == 422


@pytest.mark.parametrize(("start", "to"), [m for m in MOVES if m[1] in ALLOWED[m[0]]])
async def test_allowed_transition_is_applied(agent_client, session, start, to):
    ticket = await make_ticket(session, status=start)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": to})

    assert response.status_code == 200
    assert response.json()["status"] == to


@pytest.mark.parametrize(("start", "to"), [m for m in MOVES if m[1] not in ALLOWED[m[0]]])
async def test_refused_transition_is_409_naming_both_states(agent_client, session, start, to):
    ticket = await make_ticket(session, status=start)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": to})

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "invalid_ticket_transition"
    assert start.value in body["detail"]
    assert to.value in body["detail"]


@pytest.mark.parametrize("status", list(S))
async def test_same_status_is_a_no_op(agent_client, session, status):
    ticket = await make_ticket(session, status=status)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": status})

    assert response.status_code == 200
    assert response.json()["status"] == status
    assert await audit_entries(session, ticket.number, "ticket.update") == []


async def test_solving_then_closing_stamps_both_times(agent_client, session):
    ticket = await make_ticket(session, status=S.OPEN)

    solved = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": "solved"})
    closed = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": "closed"})

    assert solved.json()["solved_at"] is not None
    assert closed.json()["solved_at"] == solved.json()["solved_at"]
    assert closed.json()["closed_at"] is not None


async def test_reopening_a_solved_ticket_clears_solved_at(agent_client, session):
    ticket = await make_ticket(session, status=S.OPEN)

    await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": "solved"})
    reopened = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": "open"})

    assert reopened.json()["status"] == "open"
    assert reopened.json()["solved_at"] is None


async def test_priority_change_recomputes_sla_from_creation(agent_client, session):
    created = utcnow() - timedelta(hours=1)
    ticket = await make_ticket(session, created_at=created, sla_due_at=created + timedelta(hours=24))

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"priority": "urgent"})

    body = response.json()
    assert body["priority"] == "urgent"
    assert moment(body, "sla_due_at") == moment(body, "created_at") + timedelta(hours=4)


async def test_priority_change_on_a_solved_ticket_keeps_its_sla(agent_client, session):
    due = utcnow() + timedelta(hours=24)
    ticket = await make_ticket(session, status=S.SOLVED, sla_due_at=due)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"priority": "low"})

    assert response.json()["priority"] == "low"
    assert moment(response.json(), "sla_due_at") == due


async def test_ticket_past_its_sla_is_overdue_until_solved(agent_client, session):
    ticket = await make_ticket(session, sla_due_at=utcnow() - timedelta(minutes=1))

    before = await agent_client.get(f"/api/tickets/{ticket.number}")
    after = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"status": "solved"})

    assert before.json()["overdue"] is True
    assert after.json()["overdue"] is False


async def test_assigning_and_unassigning_an_agent(agent_client, session, agent):
    ticket = await make_ticket(session)

    assigned = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"assignee_id": agent.id})
    kept = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"category": "refund"})
    unassigned = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"assignee_id": None})

    assert assigned.json()["assignee_id"] == agent.id
    assert kept.json()["assignee_id"] == agent.id
    assert kept.json()["category"] == "refund"
    assert unassigned.json()["assignee_id"] is None


async def test_assigning_an_unknown_agent_is_404(agent_client, session):
    ticket = await make_ticket(session)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"assignee_id": 2_000_000_000})

    assert response.status_code == 404
    assert response.json()["error"] == "agent_not_found"


async def test_assigning_a_deactivated_agent_is_409(agent_client, session):
    ticket = await make_ticket(session)
    gone = await make_agent(session, is_active=False)

    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json={"assignee_id": gone.id})

    assert response.status_code == 409
    assert response.json()["error"] == "agent_inactive"


@pytest.mark.parametrize(
    "payload", [{"status": "done"}, {"priority": "asap"}, {"category": "gossip"}, {"subject": ""}]
)
async def test_invalid_update_is_422(agent_client, session, payload):
    ticket = await make_ticket(session)
    response = await agent_client.patch(f"/api/tickets/{ticket.number}", json=payload)
    assert response.status_code == 422


async def test_update_is_audited_with_a_diff(agent_client, session, agent):
    ticket = await make_ticket(session, priority=TicketPriority.NORMAL)

    await agent_client.patch(
        f"/api/tickets/{ticket.number}", json={"status": "open", "priority": "high", "subject": "Parcel lost"}
    )

    [entry] = await audit_entries(session, ticket.number, "ticket.update")
    assert entry.actor_id == str(agent.id)
    assert entry.changes["status"] == {"from": "new", "to": "open"}
    assert entry.changes["priority"] == {"from": "normal", "to": "high"}
    assert entry.changes["subject"] == {"from": "Parcel has not arrived", "to": "Parcel lost"}
    assert "sla_due_at" in entry.changes
