"""/api/live over a real uvicorn server and real Redis pub/sub: auth, fan-out, what routes announce."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from crm_backend.agents.models import Agent
from crm_backend.core.config import Settings
from crm_backend.events.live import LivePublisher
from crm_backend.events.router import get_session_factory
from devstack.services import free_port
from tests.crm_backend.conftest import SERVICE_TOKEN, ClientFactory, agent_token
from tests.crm_backend.events.conftest import REDIS_URL, StreamKeys
from tests.crm_backend.factories import make_agent
from tests.crm_backend.handoffs.factories import make_handoff


@pytest.fixture
async def live_url(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession], redis_client: Redis, keys: StreamKeys
) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port, publishing on the test's channel."""
    app.state.live = LivePublisher(redis_client, keys.live)
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/api/live"
    server.should_exit = True
    await task


async def next_event(socket: ClientConnection) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
    return event


async def open_console(url: str, token: str) -> ClientConnection:
    socket = await connect(f"{url}?token={token}")
    assert await next_event(socket) == {"type": "live.ready"}  # subscribed from here on
    return socket


@pytest.mark.parametrize("token", ["", "not-a-jwt"])
async def test_an_invalid_token_closes_with_4401(live_url: str, token: str):
    async with connect(f"{live_url}?token={token}") as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_deactivated_agent_is_refused(live_url: str, settings: Settings, session: AsyncSession):
    gone = await make_agent(session, is_active=False)
    async with connect(f"{live_url}?token={agent_token(settings, gone)}") as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_events_from_any_process_reach_every_console(
    live_url: str, settings: Settings, agent: Agent, admin: Agent, keys: StreamKeys
):
    first = await open_console(live_url, agent_token(settings, agent))
    second = await open_console(live_url, agent_token(settings, admin))
    # Another CRM process: its own Redis connection, the same channel.
    other_process = Redis.from_url(REDIS_URL)
    try:
        await LivePublisher(other_process, keys.live).publish(
            {"type": "conversation.changed", "sender_id": "s-1", "status": "handed_off"},
            {"type": "conversation.changed", "sender_id": "s-1", "status": "active"},
        )
        for socket in (first, second):
            assert [(await next_event(socket))["status"] for _ in range(2)] == ["handed_off", "active"]
    finally:
        await first.close()
        await second.close()
        await other_process.aclose()


async def test_handoff_routes_announce_their_changes(
    live_url: str, settings: Settings, agent: Agent, session: AsyncSession, client_for: ClientFactory
):
    handoff = await make_handoff(session)
    console = await open_console(live_url, agent_token(settings, agent))
    try:
        async with client_for(agent_token(settings, agent)) as http:
            assert (await http.post(f"/api/handoffs/{handoff.id}/claim")).status_code == 200
        claimed = await next_event(console)
        assert claimed["type"] == "handoff.changed"
        assert claimed["handoff"]["id"] == handoff.id
        assert claimed["handoff"]["status"] == "assigned"
        assert claimed["handoff"]["assignee_id"] == agent.id
        assert "queue_position" not in claimed["handoff"]  # a HandoffItem

        async with client_for(agent_token(settings, agent)) as http:
            note = {"author": "agent", "channel": "web", "text": "customer seems upset", "is_internal": True}
            sender_id = claimed["handoff"]["sender_id"]
            assert (await http.post(f"/api/conversations/{sender_id}/messages", json=note)).status_code == 201
        created = await next_event(console)
        assert created["type"] == "message.created"
        assert created["sender_id"] == sender_id
        assert created["message"]["text"] == "customer seems upset"
        assert created["message"]["is_internal"]
    finally:
        await console.close()


async def test_a_handoff_created_by_the_bot_is_announced(
    live_url: str, settings: Settings, agent: Agent, client_for: ClientFactory
):
    console = await open_console(live_url, agent_token(settings, agent))
    try:
        async with client_for(SERVICE_TOKEN) as http:
            body = {"sender_id": "live-sender-1", "reason": "customer_request", "channel": "web"}
            assert (await http.post("/api/handoffs", json=body)).status_code == 201
        created, status = await next_event(console), await next_event(console)
    finally:
        await console.close()
    assert created["type"] == "handoff.changed"
    assert created["handoff"]["status"] == "waiting"
    assert status == {"type": "conversation.changed", "sender_id": "live-sender-1", "status": "handed_off"}
