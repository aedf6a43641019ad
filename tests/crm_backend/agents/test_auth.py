"""Agent login, roles, and who may call what."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from crm_backend.agents.models import AgentRole
from crm_backend.auth.tokens import issue_agent_token
from tests.crm_backend.factories import TEST_PASSWORD, make_agent


async def test_login_returns_a_token_that_authenticates(anonymous_client, client_for, agent):
    response = await anonymous_client.post(
        "/api/auth/login", json={"email": agent.email.upper(), "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["agent"]["email"] == agent.email
    async with client_for(body["access_token"]) as http:
        me = await http.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == agent.id


@pytest.mark.parametrize("password", ["wrong password", ""])
async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    anonymous_client, agent, password
):
    response = await anonymous_client.post(
        "/api/auth/login", json={"email": agent.email, "password": password}
    )
    unknown = await anonymous_client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "x"}
    )

    assert response.status_code in (401, 422)
    assert unknown.status_code == 401
    if response.status_code == 401:
        assert response.json() == unknown.json()


async def test_deactivated_agent_cannot_log_in_or_use_an_old_token(
    anonymous_client, client_for, session, settings
):
    agent = await make_agent(session, is_active=False)
    token, _ = issue_agent_token(
        agent_id=agent.id, role="agent", secret=settings.secret_key, lifetime=timedelta(hours=1)
    )

    login = await anonymous_client.post(
        "/api/auth/login", json={"email": agent.email, "password": TEST_PASSWORD}
    )
    async with client_for(token) as http:
        me = await http.get("/api/auth/me")

    assert login.status_code == 401
    assert me.status_code == 401


async def test_expired_or_forged_tokens_are_refused(client_for, agent, settings):
    expired, _ = issue_agent_token(
        agent_id=agent.id, role="agent", secret=settings.secret_key, lifetime=timedelta(seconds=-1)
    )
    forged, _ = issue_agent_token(
        agent_id=agent.id,
        role="admin",
        secret="not-the-secret-but-just-as-long-as-it",
        lifetime=timedelta(hours=1),
    )
    for token in (expired, forged, "garbage"):
        async with client_for(token) as http:
            assert (await http.get("/api/auth/me")).status_code == 401


async def test_only_admins_manage_agents(
    agent_client: httpx.AsyncClient, admin_client: httpx.AsyncClient, client
):
    payload = {"name": "New Agent", "email": "new.agent@example.com", "password": "long enough password"}

    by_agent = await agent_client.post("/api/agents", json=payload)
    by_service = await client.post("/api/agents", json=payload)
    by_admin = await admin_client.post("/api/agents", json=payload)
    again = await admin_client.post("/api/agents", json=payload)

    assert by_agent.status_code == by_service.status_code == 403
    assert by_admin.status_code == 201
    assert by_admin.json()["role"] == AgentRole.AGENT
    assert "password" not in by_admin.text
    assert again.status_code == 409


async def test_admin_changes_are_audited(admin_client, admin, agent):
    response = await admin_client.patch(f"/api/agents/{agent.id}", json={"role": "admin", "is_active": False})
    audit = await admin_client.get("/api/audit", params={"entity_type": "agent", "entity_id": str(agent.id)})

    assert response.status_code == 200
    entry = audit.json()["items"][0]
    assert entry["action"] == "agent.update"
    assert entry["actor_id"] == str(admin.id)
    assert entry["changes"]["role"] == {"from": "agent", "to": "admin"}


async def test_agents_set_their_presence(agent_client, agent):
    response = await agent_client.put("/api/agents/me/presence", json={"is_online": False})
    listed = await agent_client.get("/api/agents", params={"is_online": "false"})

    assert response.json()["is_online"] is False
    assert agent.id in [a["id"] for a in listed.json()["items"]]


async def test_agent_tokens_do_not_open_service_only_endpoints(agent_client):
    response = await agent_client.post(
        "/api/orders/lookup", json={"order_number": "ORD-100001", "email": "a@example.com"}
    )
    assert response.status_code == 403
