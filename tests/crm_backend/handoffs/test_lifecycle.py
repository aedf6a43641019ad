"""Claim, transfer, release, resolve, abandon and CSAT: who may do what, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import Conversation, ConversationStatus
from crm_backend.core.types import utcnow
from crm_backend.handoffs.models import Handoff, HandoffStatus
from crm_backend.tickets.models import Ticket, TicketStatus
from tests.crm_backend.conftest import agent_token
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff


async def _reload(session, handoff: Handoff) -> Handoff:
    await session.refresh(handoff)
    return handoff


async def _conversation_status(session, handoff: Handoff):
    conversation = await session.get(Conversation, handoff.conversation_id, populate_existing=True)
    return conversation.status


async def _actions(session, handoff: Handoff) -> list[str]:
    rows = await session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "handoff", AuditEntry.entity_id == str(handoff.id))
        .order_by(AuditEntry.id)
    )
    return list(rows)


async def test_claim_assigns_the_handoff_to_the_calling_agent(agent_client, session, agent):
    handoff = await make_handoff(session)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/claim")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "assigned"
    assert body["assignee_id"] == agent.id
    assert body["claimed_at"] is not None
    assert body["queue_position"] is None
    assert await _actions(session, handoff) == ["handoff.claim"]


async def test_claiming_twice_is_409(agent_client, admin_client, session):
    handoff = await make_handoff(session)

    first = await agent_client.post(f"/api/handoffs/{handoff.id}/claim")
    second = await admin_client.post(f"/api/handoffs/{handoff.id}/claim")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"] == "handoff_already_claimed"


@pytest.mark.parametrize("status", [HandoffStatus.RESOLVED, HandoffStatus.ABANDONED])
async def test_closed_handoffs_cannot_be_claimed(agent_client, session, status):
    handoff = await make_handoff(session, status=status)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/claim")

    assert response.status_code == 409
    assert response.json()["error"] == "handoff_not_waiting"


async def test_only_agents_claim(client, session):
    handoff = await make_handoff(session)

    assert (await client.post(f"/api/handoffs/{handoff.id}/claim")).status_code == 403


async def test_assignee_transfers_to_another_active_agent(agent_client, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    colleague = await make_agent(session)

    response = await agent_client.post(
        f"/api/handoffs/{handoff.id}/transfer", json={"agent_id": colleague.id}
    )

    assert response.status_code == 200
    assert response.json()["assignee_id"] == colleague.id
    assert await _actions(session, handoff) == ["handoff.transfer"]


async def test_admin_may_transfer_someone_elses_handoff(admin_client, session, agent):
    colleague = await make_agent(session)
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=colleague.id)

    response = await admin_client.post(f"/api/handoffs/{handoff.id}/transfer", json={"agent_id": agent.id})

    assert response.status_code == 200
    assert response.json()["assignee_id"] == agent.id


async def test_transfer_rules(agent_client, session, agent):
    colleague = await make_agent(session)
    inactive = await make_agent(session, is_active=False)
    others = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=colleague.id)
    mine = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)
    waiting = await make_handoff(session)

    async def transfer(handoff, agent_id):
        return await agent_client.post(f"/api/handoffs/{handoff.id}/transfer", json={"agent_id": agent_id})

    not_mine = await transfer(others, agent.id)
    to_inactive = await transfer(mine, inactive.id)
    to_nobody = await transfer(mine, 2_000_000_000)
    not_assigned = await transfer(waiting, colleague.id)

    assert (not_mine.status_code, not_mine.json()["error"]) == (403, "not_handoff_assignee")
    assert (to_inactive.status_code, to_inactive.json()["error"]) == (409, "agent_inactive")
    assert (to_nobody.status_code, to_nobody.json()["error"]) == (404, "agent_not_found")
    assert (not_assigned.status_code, not_assigned.json()["error"]) == (409, "handoff_not_assigned")
    assert (await _reload(session, mine)).assignee_id == agent.id


async def test_release_hands_the_conversation_back_to_the_bot(agent_client, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id)

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/release")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    assert body["resolved_at"] is not None
    assert body["summary"] == {"intent": "order_status", "outcome": "handed_back"}
    assert await _conversation_status(session, handoff) == ConversationStatus.ACTIVE
    assert await _actions(session, handoff) == ["handoff.release"]


async def test_resolve_closes_the_handoff_and_solves_its_ticket(agent_client, session, agent):
    ticket = Ticket(number="TCK-HO-1", subject="Broken parcel", sla_due_at=utcnow() + timedelta(days=1))
    session.add(ticket)
    await session.flush()
    handoff = await make_handoff(
        session, status=HandoffStatus.ASSIGNED, assignee_id=agent.id, ticket_id=ticket.id
    )

    response = await agent_client.post(f"/api/handoffs/{handoff.id}/resolve")

    assert response.status_code == 200
    assert response.json()["summary"]["outcome"] == "resolved"
    assert await _conversation_status(session, handoff) == ConversationStatus.ACTIVE
    await session.refresh(ticket)
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.solved_at is not None


@pytest.mark.parametrize("action", ["release", "resolve"])
async def test_only_the_assignee_or_an_admin_closes_an_assigned_handoff(
    agent_client, admin_client, session, action
):
    colleague = await make_agent(session)
    handoff = await make_handoff(session, status=HandoffStatus.ASSIGNED, assignee_id=colleague.id)

    by_other_agent = await agent_client.post(f"/api/handoffs/{handoff.id}/{action}")
    by_admin = await admin_client.post(f"/api/handoffs/{handoff.id}/{action}")
    again = await admin_client.post(f"/api/handoffs/{handoff.id}/{action}")

    assert by_other_agent.status_code == 403
    assert by_admin.status_code == 200
    assert (again.status_code, again.json()["error"]) == (409, "handoff_not_assigned")


async def test_waiting_handoff_cannot_be_released_or_resolved(admin_client, session):
    handoff = await make_handoff(session)

    for action in ("release", "resolve"):
        assert (await admin_client.post(f"/api/handoffs/{handoff.id}/{action}")).status_code == 409


@pytest.mark.parametrize("status", [HandoffStatus.WAITING, HandoffStatus.ASSIGNED])
async def test_abandon_closes_an_open_handoff_and_reactivates_the_conversation(
    client, session, agent, status
):
    handoff = await make_handoff(session, status=status, assignee_id=agent.id)

    response = await client.post(f"/api/handoffs/{handoff.id}/abandon")

    assert response.status_code == 200
    assert response.json()["status"] == "abandoned"
    assert await _conversation_status(session, handoff) == ConversationStatus.ACTIVE
    assert await _actions(session, handoff) == ["handoff.abandon"]


async def test_closed_handoff_cannot_be_abandoned_and_agents_cannot_abandon(client, agent_client, session):
    resolved = await make_handoff(session, status=HandoffStatus.RESOLVED)
    waiting = await make_handoff(session)

    again = await client.post(f"/api/handoffs/{resolved.id}/abandon")
    by_agent = await agent_client.post(f"/api/handoffs/{waiting.id}/abandon")

    assert (again.status_code, again.json()["error"]) == (409, "handoff_not_open")
    assert by_agent.status_code == 403


async def test_csat_is_recorded_once_for_a_resolved_handoff(client, session):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED)

    first = await client.post(f"/api/handoffs/{handoff.id}/csat", json={"score": 5, "comment": "Quick!"})
    second = await client.post(f"/api/handoffs/{handoff.id}/csat", json={"score": 1})

    assert first.status_code == 200
    assert (first.json()["csat_score"], first.json()["csat_comment"]) == (5, "Quick!")
    assert (second.status_code, second.json()["error"]) == (409, "csat_already_given")
    assert (await _reload(session, handoff)).csat_score == 5
    assert await _actions(session, handoff) == ["handoff.csat"]


async def test_a_score_stored_alone_takes_its_comment_once_afterwards(client, session):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED)
    url = f"/api/handoffs/{handoff.id}/csat"

    scored = await client.post(url, json={"score": 2})
    commented = await client.patch(url, json={"comment": "Took a while, but solved."})
    again = await client.patch(url, json={"comment": "Second thoughts"})

    assert (scored.status_code, scored.json()["csat_score"], scored.json()["csat_comment"]) == (200, 2, None)
    assert commented.status_code == 200, commented.text
    assert (commented.json()["csat_score"], commented.json()["csat_comment"]) == (
        2,
        "Took a while, but solved.",
    )
    assert (again.status_code, again.json()["error"]) == (409, "csat_already_given")
    reloaded = await _reload(session, handoff)
    assert (reloaded.csat_score, reloaded.csat_comment) == (2, "Took a while, but solved.")
    assert await _actions(session, handoff) == ["handoff.csat", "handoff.csat_update"]


async def test_completing_a_rating_may_change_its_score_and_needs_a_score_first(client, session):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED)
    url = f"/api/handoffs/{handoff.id}/csat"

    too_early = await client.patch(url, json={"comment": "Great"})
    await client.post(url, json={"score": 3})
    rescored = await client.patch(url, json={"score": 5, "comment": None})

    assert (too_early.status_code, too_early.json()["error"]) == (409, "csat_not_given")
    assert rescored.status_code == 200, rescored.text
    assert (rescored.json()["csat_score"], rescored.json()["csat_comment"]) == (5, None)
    assert (await _reload(session, handoff)).csat_score == 5


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"comment": "x" * 2001}])
async def test_invalid_rating_completion_is_422(client, session, body):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED)
    await client.post(f"/api/handoffs/{handoff.id}/csat", json={"score": 4})

    assert (await client.patch(f"/api/handoffs/{handoff.id}/csat", json=body)).status_code == 422


@pytest.mark.parametrize("status", [HandoffStatus.WAITING, HandoffStatus.ASSIGNED, HandoffStatus.ABANDONED])
async def test_csat_only_when_resolved(client, session, status):
    handoff = await make_handoff(session, status=status)

    response = await client.post(f"/api/handoffs/{handoff.id}/csat", json={"score": 4})

    assert (response.status_code, response.json()["error"]) == (409, "handoff_not_resolved")


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"score": 3, "comment": "x" * 2001}, {}])
async def test_invalid_csat_is_422(client, session, body):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED)

    assert (await client.post(f"/api/handoffs/{handoff.id}/csat", json=body)).status_code == 422


async def test_agents_cannot_rate_handoffs(client_for, settings, session, agent):
    handoff = await make_handoff(session, status=HandoffStatus.RESOLVED, assignee_id=agent.id)

    async with client_for(agent_token(settings, agent)) as http:
        response = await http.post(f"/api/handoffs/{handoff.id}/csat", json={"score": 5})

    assert response.status_code == 403
